// Run a Decoder over an auth payload and turn every decoding failure into one typed error, so callers
// of the auth layer only ever see AuthError.
import { Decoder } from '../messages/denc.ts'
import { isProtocolError } from '../wire/errors.ts'
import { AuthError, AuthErrorCode, decryptFailed, isAuthError } from './errors.ts'

/** Decode a plain (not encrypted) payload; failures become AuthError(BAD_PAYLOAD). */
export function decodePlain<T> (bytes: Uint8Array, what: string, body: (dec: Decoder) => T): T {
  try {
    return body(new Decoder(bytes))
  } catch (e) {
    throw toAuthError(e, what)
  }
}

/**
 * Decode bytes that came out of a decryption. Any failure is reported as DECRYPT_FAILED: the
 * plaintext of a forged ciphertext is random, and a distinct error would tell a forger how far the
 * decoding got.
 */
export function decodeSecret<T> (bytes: Uint8Array, body: (dec: Decoder) => T): T {
  try {
    return body(new Decoder(bytes))
  } catch {
    throw decryptFailed()
  }
}

/** AuthErrors pass through; decoder and range errors become BAD_PAYLOAD; anything else is a bug. */
export function toAuthError (e: unknown, what: string): unknown {
  if (isAuthError(e)) return e
  if (isProtocolError(e)) return new AuthError(AuthErrorCode.BAD_PAYLOAD, `${what}: ${e.message}`)
  if (e instanceof RangeError) return new AuthError(AuthErrorCode.BAD_PAYLOAD, `${what}: value out of range`)
  return e
}
