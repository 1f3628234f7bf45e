// Decoder limits: every length read from a preamble is checked against these before the decoder
// waits for or allocates the frame.

export interface V2Limits {
  /** Segment 0 (a control payload or ceph_msg_header2). Linux: CEPH_MSG_MAX_CONTROL_LEN, 16 MiB. */
  maxControlLen: number
  maxFrontLen: number
  maxMiddleLen: number
  maxDataLen: number
  /** Bytes of one frame on the wire, all segments and overheads included. */
  maxFrameLen: number
  /** Addresses in one entity_addrvec_t. */
  maxAddrs: number
}

export const DEFAULT_V2_LIMITS: V2Limits = {
  maxControlLen: 16 * 1024 * 1024,
  maxFrontLen: 16 * 1024 * 1024,
  maxMiddleLen: 16 * 1024 * 1024,
  maxDataLen: 128 * 1024 * 1024,
  maxFrameLen: 192 * 1024 * 1024,
  maxAddrs: 16
}
