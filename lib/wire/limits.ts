// Decoder limits: every length read from the wire is checked against one of these before
// anything is allocated or awaited for it.

export interface DecoderLimits {
  maxFrontLen: number
  maxMiddleLen: number
  maxDataLen: number
  /** Ceph's client refuses authorizers of 4096 bytes or more. */
  maxAuthorizerLen: number
}

export const DEFAULT_LIMITS: DecoderLimits = {
  maxFrontLen: 16 * 1024 * 1024,
  maxMiddleLen: 16 * 1024 * 1024,
  maxDataLen: 128 * 1024 * 1024,
  maxAuthorizerLen: 4095
}
