// A handshake is a synchronous generator: it yields what it needs done (write these bytes, read
// the next frame, stop at an interceptor step, learn our address) and is resumed with the result
// (the frame read; nothing otherwise). It returns how the handshake ended, or throws a typed
// error. No socket, timer or promise inside: the connection's edge drives it over real I/O, and
// a spec drives it over another handshake's output.
import type { EntityAddr } from '../wire/entity-addr.ts'
import type { InterceptInfo, InterceptStep } from './intercept.ts'

export type HandshakeStep =
  | { kind: 'write', bufs: Uint8Array[] }
  /** Resume with the next frame of the peer; `expect` names the kind wanted (for timeouts and errors). */
  | { kind: 'read', expect: string }
  /** A named step where a test interceptor may pause or fail the handshake. */
  | { kind: 'intercept', step: InterceptStep, info: Partial<InterceptInfo> }
  /** An injected delay (ms_inject_internal_delays). */
  | { kind: 'delay', ms: number }
  /** The peer told us how it sees our address. */
  | { kind: 'learnAddr', addr: EntityAddr }
  /** The peer lost our session (RESETSESSION): the session was reset, report it. */
  | { kind: 'remoteReset', dropped: number }
  /** A decision worth a trace line (debug_ms 20): the reply taken, the accept decision made. */
  | { kind: 'trace', what: string, fields: Record<string, unknown> }

/** A handshake over frames of type F, resumed with F after a 'read' step, ending with R. */
export type Handshake<F, R> = Generator<HandshakeStep, R, F | undefined>

/** Resume value check: a 'read' step must be resumed with a frame. */
export function frameOf<F> (f: F | undefined, expect: string): F {
  if (f === undefined) throw new TypeError(`handshake resumed without a frame (expected ${expect})`)
  return f
}
