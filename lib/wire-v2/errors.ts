// Every failure the msgr2 codec reports. Decoding code throws nothing but V2Error; a caller bug
// (an out-of-range value handed to an encoder) is a RangeError/TypeError instead.
import { isProtocolError } from '../wire/errors.ts'

export const V2ErrorCode = {
  /** Not a msgr2 banner. */
  BAD_BANNER: 'BAD_BANNER',
  /** The peer speaks msgr v1 ("ceph v027"). */
  V1_PEER: 'V1_PEER',
  /** One side requires msgr2 features the other does not support. */
  FEATURES_MISMATCH: 'FEATURES_MISMATCH',
  BAD_PREAMBLE_CRC: 'BAD_PREAMBLE_CRC',
  /** num_segments outside 1..4. */
  BAD_SEGMENT_COUNT: 'BAD_SEGMENT_COUNT',
  /** An empty control segment or an empty last counted segment. */
  BAD_SEGMENT_LEN: 'BAD_SEGMENT_LEN',
  /** A length beyond the decoder's limits (checked before anything is waited for or allocated). */
  TOO_LARGE: 'TOO_LARGE',
  BAD_SEGMENT_CRC: 'BAD_SEGMENT_CRC',
  /** The sender aborted the frame (late_status ABORTED). The frame was consumed; Ceph drops it and reads on. */
  FRAME_ABORTED: 'FRAME_ABORTED',
  /** A late_status that is neither COMPLETE nor ABORTED. */
  BAD_LATE_STATUS: 'BAD_LATE_STATUS',
  UNKNOWN_TAG: 'UNKNOWN_TAG',
  /** Secure mode: any AES-GCM failure. Deliberately one code with no detail. */
  DECRYPT_FAILED: 'DECRYPT_FAILED',
  /** The stream ended inside a banner or frame. */
  TRUNCATED: 'TRUNCATED',
  /** A frame payload that does not decode as its tag's structure. */
  BAD_PAYLOAD: 'BAD_PAYLOAD',
  BAD_ADDR: 'BAD_ADDR'
} as const
export type V2ErrorCodeValue = typeof V2ErrorCode[keyof typeof V2ErrorCode]

export class V2Error extends Error {
  override readonly name = 'V2Error'
  readonly code: V2ErrorCodeValue
  /** Stream offset (or offset in the decoded buffer) where the bad input starts. */
  readonly offset: number

  constructor (code: V2ErrorCodeValue, message: string, offset: number) {
    super(`${code} at offset ${offset}: ${message}`)
    this.code = code
    this.offset = offset
  }
}

export function isV2Error (e: unknown): e is V2Error {
  return e instanceof V2Error
}

/**
 * Rethrow a failure of the shared denc Decoder (lib/messages/denc.ts, which throws the v1
 * ProtocolError) as a V2Error with `code`, its offset moved by `base`. Anything else passes.
 */
export function rethrowDenc (e: unknown, code: V2ErrorCodeValue, base: number): never {
  if (isV2Error(e)) throw e
  if (isProtocolError(e)) throw new V2Error(code, e.message.replace(/^\w+ at offset \d+: /, ''), base + e.offset)
  throw e
}
