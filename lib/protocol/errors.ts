// Typed errors of the messenger layer (the codec's are ProtocolError in lib/wire/errors.ts).

export const MessengerErrorCode = {
  HANDSHAKE_TIMEOUT: 'HANDSHAKE_TIMEOUT',
  KEEPALIVE_TIMEOUT: 'KEEPALIVE_TIMEOUT',
  IDLE_TIMEOUT: 'IDLE_TIMEOUT',
  PEER_CLOSED: 'PEER_CLOSED',
  SOCKET_ERROR: 'SOCKET_ERROR',
  REFUSED: 'REFUSED',
  PEER_ADDR_MISMATCH: 'PEER_ADDR_MISMATCH',
  BAD_CONNECT_SEQ: 'BAD_CONNECT_SEQ',
  OUT_QUEUE_FULL: 'OUT_QUEUE_FULL',
  CLOSED: 'CLOSED',
  INJECTED: 'INJECTED',
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  NOT_BOUND: 'NOT_BOUND'
} as const
export type MessengerErrorCodeValue = typeof MessengerErrorCode[keyof typeof MessengerErrorCode]

/**
 * Codes that end every connection's life (its reader and writer stop, the peer hangs up): made
 * several times per connection, and their stack is only the read or write loop. Created without a
 * stack trace, which measured ~2% of a connect + ping + close.
 */
const NO_STACK: ReadonlySet<string> = new Set([MessengerErrorCode.PEER_CLOSED, MessengerErrorCode.CLOSED])

export class MessengerError extends Error {
  override readonly name = 'MessengerError'
  readonly code: MessengerErrorCodeValue
  constructor (code: MessengerErrorCodeValue, message: string, options?: { cause?: unknown }) {
    const limit = Error.stackTraceLimit
    if (NO_STACK.has(code)) Error.stackTraceLimit = 0
    try {
      super(`${code}: ${message}`, options)
    } finally {
      Error.stackTraceLimit = limit
    }
    this.code = code
  }
}

/** Stable error code for logs and counters, whatever was thrown. */
export function errorCode (e: unknown): string {
  if (e !== null && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return (e as { code: string }).code
  }
  return 'UNKNOWN'
}
