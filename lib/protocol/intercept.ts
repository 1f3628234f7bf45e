// Named points in the handshake where a test can pause a connection, let it go on, or make it
// fail (Ceph's Interceptor for its messenger tests). Races are then tested deterministically:
// hold both sides at a step, release them in the order the test needs.
import type { EntityAddr } from '../wire/entity-addr.ts'

export type InterceptStep =
  /** Client: the socket is connected, nothing sent yet. */
  | 'connect:start'
  /** Client: banner and addresses exchanged; our connect is about to be written. */
  | 'connect:send_connect'
  /** Client: a connect_reply arrived (info.tag names it). */
  | 'connect:reply'
  /** Client: the session is about to open. */
  | 'connect:ready'
  /** Server: a connect message arrived (info.peer, info.connectSeq, info.globalSeq). */
  | 'accept:connect'
  /** Server: the decision is made (info.action, info.tag), its reply not yet written. */
  | 'accept:decision'
  /** Server: a session is about to open on this socket (reply not yet written). */
  | 'accept:open'

export type InterceptAction = 'continue' | 'fail'

export interface InterceptInfo {
  peer: EntityAddr
  connectionId?: number
  tag?: string
  action?: string
  connectSeq?: number
  globalSeq?: number
}

export interface Interceptor {
  /** Return (or resolve to) 'fail' to fault the socket at this step; the handshake waits meanwhile. */
  intercept: (step: InterceptStep, info: InterceptInfo) => InterceptAction | Promise<InterceptAction>
}
