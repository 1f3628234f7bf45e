// Every failure the codec can report. The decoder throws nothing but ProtocolError.

export const ErrorCode = {
  BAD_BANNER: 'BAD_BANNER',
  BAD_ADDR: 'BAD_ADDR',
  BAD_HEADER_CRC: 'BAD_HEADER_CRC',
  BAD_FRONT_CRC: 'BAD_FRONT_CRC',
  BAD_MIDDLE_CRC: 'BAD_MIDDLE_CRC',
  BAD_DATA_CRC: 'BAD_DATA_CRC',
  MSG_ABORTED: 'MSG_ABORTED',
  UNKNOWN_TAG: 'UNKNOWN_TAG',
  TOO_LARGE: 'TOO_LARGE',
  BAD_AUTHORIZER_LEN: 'BAD_AUTHORIZER_LEN',
  UNEXPECTED_DATA: 'UNEXPECTED_DATA',
  TRUNCATED: 'TRUNCATED',
  BAD_PAYLOAD: 'BAD_PAYLOAD'
} as const
export type ErrorCodeValue = typeof ErrorCode[keyof typeof ErrorCode]

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
  readonly code: ErrorCodeValue
  /** Byte offset in the decoded stream where the bad input starts. */
  readonly offset: number

  constructor (code: ErrorCodeValue, message: string, offset: number) {
    super(`${code} at offset ${offset}: ${message}`)
    this.code = code
    this.offset = offset
  }
}

export function isProtocolError (e: unknown): e is ProtocolError {
  return e instanceof ProtocolError
}
