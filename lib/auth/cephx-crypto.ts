// cephx's encode_encrypt / decode_decrypt (ceph src/auth/cephx/CephxProtocol.h, src/auth/Crypto.cc):
// AES-128-CBC with the fixed IV "cephsageyudagreg" and PKCS#7 padding over
//   u8 struct_v (1) | u64 magic 0xff009cad8826aa55 | encoded payload.
// "enc_bl" is the bare ciphertext; encode_encrypt wraps it as a bufferlist (u32 length + bytes).
// The IV is fixed, so equal plaintexts under one key give equal ciphertexts (the golden specs rely
// on it).
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { Decoder, Encoder } from '../messages/denc.ts'
import type { CryptoKey } from './crypto-key.ts'
import { decryptFailed } from './errors.ts'
import { decodeSecret } from './payload.ts'

export const CEPHX_ENC_MAGIC = 0xff009cad8826aa55n
export const CEPH_AES_IV = new TextEncoder().encode('cephsageyudagreg')
const ENC_HEADER_LEN = 9
const AES_BLOCK = 16

/** Raw AES-128-CBC with Ceph's IV and PKCS#7 padding. */
export function aesEncrypt (key: CryptoKey, plaintext: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-128-cbc', key.secretBytes(), CEPH_AES_IV)
  return new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final()]))
}

/** Raw AES-128-CBC decryption; every failure (length, padding) is the one DECRYPT_FAILED. */
export function aesDecrypt (key: CryptoKey, ciphertext: Uint8Array): Uint8Array {
  if (ciphertext.length === 0 || ciphertext.length % AES_BLOCK !== 0) throw decryptFailed()
  try {
    const decipher = createDecipheriv('aes-128-cbc', key.secretBytes(), CEPH_AES_IV)
    return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]))
  } catch {
    throw decryptFailed()
  }
}

/** encode_encrypt_enc_bl: the bare ciphertext of header + payload. */
export function encryptEnvelope (key: CryptoKey, payload: Uint8Array): Uint8Array {
  const enc = new Encoder(ENC_HEADER_LEN + payload.length)
  enc.u8(1).u64(CEPHX_ENC_MAGIC).bytes(payload)
  return aesEncrypt(key, enc.finish())
}

/** decode_decrypt_enc_bl: decrypt and check the magic; returns the encoded payload. */
export function decryptEnvelope (key: CryptoKey, ciphertext: Uint8Array): Uint8Array {
  const plain = aesDecrypt(key, ciphertext)
  if (plain.length < ENC_HEADER_LEN) throw decryptFailed()
  // struct_v is not checked: Ceph reads and ignores it.
  const magic = new DataView(plain.buffer, plain.byteOffset, plain.byteLength).getBigUint64(1, true)
  if (magic !== CEPHX_ENC_MAGIC) throw decryptFailed()
  return plain.subarray(ENC_HEADER_LEN)
}

/** encode_encrypt: the ciphertext as a bufferlist (u32 length + bytes). */
export function encodeEncrypt (key: CryptoKey, payload: Uint8Array): Uint8Array {
  const ct = encryptEnvelope(key, payload)
  return new Encoder(4 + ct.length).bufferlist(ct).finish()
}

/** Write encode_encrypt(payload) into an encoder. */
export function writeEncrypted (enc: Encoder, key: CryptoKey, payload: Uint8Array): void {
  enc.bufferlist(encryptEnvelope(key, payload))
}

/**
 * decode_decrypt: read a bufferlist from `dec`, decrypt it and decode the plaintext with `body`. A
 * short bufferlist, a bad ciphertext and an undecodable plaintext all give DECRYPT_FAILED.
 */
export function readDecrypted<T> (dec: Decoder, key: CryptoKey, body: (d: Decoder) => T): T {
  let ct: Uint8Array
  try {
    ct = dec.bufferlist()
  } catch {
    throw decryptFailed()
  }
  return openEnvelope(key, ct, body)
}

/** decode_decrypt_enc_bl plus decoding of the plaintext; every failure is DECRYPT_FAILED. */
export function openEnvelope<T> (key: CryptoKey, ciphertext: Uint8Array, body: (d: Decoder) => T): T {
  return decodeSecret(decryptEnvelope(key, ciphertext), body)
}
