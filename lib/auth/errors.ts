// Every failure the auth layer reports. Messages are fixed text plus counts and offsets: they never
// carry key material, decrypted bytes or text copied from a keyring (a mistyped keyring line may
// itself be a secret).

export const AuthErrorCode = {
  /** The keyring text could not be parsed. */
  BAD_KEYRING: 'BAD_KEYRING',
  /** A CryptoKey encoding or its base64 text is malformed, or the key type is unsupported. */
  BAD_KEY: 'BAD_KEY',
  /** The entity is not in the keyring. */
  UNKNOWN_ENTITY: 'UNKNOWN_ENTITY',
  /** The client's cephx proof did not match. */
  BAD_PROOF: 'BAD_PROOF',
  /** Any decryption failure: bad length, bad padding, bad magic or an undecodable plaintext. */
  DECRYPT_FAILED: 'DECRYPT_FAILED',
  /** A ticket that decrypted fine but whose validity has ended. */
  EXPIRED_TICKET: 'EXPIRED_TICKET',
  /** A ticket that cannot be used: empty, unknown secret id, wrong global id or wrong service. */
  BAD_TICKET: 'BAD_TICKET',
  /** An auth payload that does not decode. */
  BAD_PAYLOAD: 'BAD_PAYLOAD',
  /** An auth method the peer does not offer or accept. */
  BAD_METHOD: 'BAD_METHOD',
  /** No connection mode both sides accept, or a mode the client did not offer. */
  BAD_MODE: 'BAD_MODE',
  /** The entity has no capabilities for the mon (Ceph answers EACCES). */
  ACCESS_DENIED: 'ACCESS_DENIED',
  /** A handler was called out of order. */
  BAD_STATE: 'BAD_STATE',
  /** The peer answered with a non-zero cephx status. */
  REJECTED: 'REJECTED'
} as const
export type AuthErrorCodeValue = typeof AuthErrorCode[keyof typeof AuthErrorCode]

/** The one message for every decryption failure, so a caller cannot tell padding from magic errors. */
export const DECRYPT_FAILED_MESSAGE = 'DECRYPT_FAILED: decryption failed'

export class AuthError extends Error {
  override readonly name = 'AuthError'
  readonly code: AuthErrorCodeValue

  constructor (code: AuthErrorCodeValue, message: string) {
    super(code === AuthErrorCode.DECRYPT_FAILED ? DECRYPT_FAILED_MESSAGE : `${code}: ${message}`)
    this.code = code
  }
}

export function isAuthError (e: unknown): e is AuthError {
  return e instanceof AuthError
}

export function decryptFailed (): AuthError {
  return new AuthError(AuthErrorCode.DECRYPT_FAILED, '')
}
