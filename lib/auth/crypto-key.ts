// Ceph's CryptoKey (src/auth/Crypto.cc): u16 type, utime created, u16 length, secret bytes. A
// keyring's `key = ...` is the base64 of exactly this encoding. Only AES-128 keys exist in Pacific.
//
// The secret lives in a private field and every printing path (inspect, JSON, String) redacts it.
import { timingSafeEqual } from 'node:crypto'
import { inspect } from 'node:util'
import { Decoder, Encoder } from '../messages/denc.ts'
import type { Utime } from '../messages/denc.ts'
import type { RandomSource } from './environment.ts'
import { AuthError, AuthErrorCode, isAuthError } from './errors.ts'
import { isProtocolError } from '../wire/errors.ts'

export const CryptoKeyType = {
  NONE: 0,
  AES: 1
} as const

/** AES-128: the only secret length Pacific uses. */
export const AES_KEY_LEN = 16
/** Encoded size of an AES CryptoKey: 2 + 8 + 2 + 16. */
export const CRYPTO_KEY_LEN = 28

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

export class CryptoKey {
  readonly type: number
  readonly created: Utime
  readonly #secret: Uint8Array

  constructor (secret: Uint8Array, created: Utime = { sec: 0, nsec: 0 }, type: number = CryptoKeyType.AES) {
    if (type !== CryptoKeyType.AES) throw new AuthError(AuthErrorCode.BAD_KEY, `unsupported key type ${type}`)
    if (secret.length !== AES_KEY_LEN) {
      throw new AuthError(AuthErrorCode.BAD_KEY, `an AES key needs ${AES_KEY_LEN} secret bytes, got ${secret.length}`)
    }
    this.type = type
    this.created = { sec: created.sec, nsec: created.nsec }
    this.#secret = Uint8Array.from(secret)
  }

  /** A fresh random AES key (KeyServer::generate_secret). */
  static generate (random: RandomSource, created: Utime): CryptoKey {
    return new CryptoKey(random.bytes(AES_KEY_LEN), created)
  }

  /** A copy of the raw secret, for the cipher and the HMAC. */
  secretBytes (): Uint8Array {
    return Uint8Array.from(this.#secret)
  }

  encode (enc: Encoder): void {
    enc.u16(this.type).utime(this.created).u16(this.#secret.length).bytes(this.#secret)
  }

  toBytes (): Uint8Array {
    const enc = new Encoder(CRYPTO_KEY_LEN)
    this.encode(enc)
    return enc.finish()
  }

  /** Read a CryptoKey; a malformed one throws BAD_KEY (or the decoder's BAD_PAYLOAD). */
  static decode (dec: Decoder): CryptoKey {
    const type = dec.u16()
    const created = dec.utime()
    const len = dec.u16()
    return new CryptoKey(dec.bytes(len), created, type)
  }

  static fromBytes (bytes: Uint8Array): CryptoKey {
    try {
      const dec = new Decoder(bytes)
      const key = CryptoKey.decode(dec)
      if (!dec.done) throw new AuthError(AuthErrorCode.BAD_KEY, `${dec.remaining} bytes after the key`)
      return key
    } catch (e) {
      if (isAuthError(e)) throw e
      if (isProtocolError(e)) throw new AuthError(AuthErrorCode.BAD_KEY, 'truncated key encoding')
      throw e
    }
  }

  /** Parse the base64 form a keyring holds (CryptoKey::decode_base64). */
  static fromBase64 (text: string): CryptoKey {
    const t = text.trim()
    if (!BASE64.test(t) || t.length === 0) throw new AuthError(AuthErrorCode.BAD_KEY, 'key is not valid base64')
    return CryptoKey.fromBytes(new Uint8Array(Buffer.from(t, 'base64')))
  }

  /** The base64 text for a keyring. It holds the secret: never log it. */
  toBase64 (): string {
    return Buffer.from(this.toBytes()).toString('base64')
  }

  /** Constant-time comparison of type, creation time and secret. */
  equals (other: CryptoKey): boolean {
    return constantTimeEqual(this.toBytes(), other.toBytes())
  }

  toString (): string {
    return `CryptoKey(type=${this.type}, created=${this.created.sec}.${String(this.created.nsec).padStart(9, '0')}, secret=<redacted>)`
  }

  toJSON (): { type: number, created: Utime, secret: string } {
    return { type: this.type, created: { ...this.created }, secret: '<redacted>' }
  }

  [inspect.custom] (): string {
    return this.toString()
  }
}

/** Equal-length byte arrays compared without a data-dependent early exit; unequal lengths are false. */
export function constantTimeEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  return timingSafeEqual(a, b)
}
