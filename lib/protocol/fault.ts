// What a fault does to a session (Ceph's ProtocolV1::fault / ProtocolV2::fault), as a pure
// decision: the connection's policy, the kind of failure and what is still owed decide whether
// the session closes, waits, goes idle or reconnects, and after how long.
import type { Policy } from '../session/policy.ts'

/** Where the failure happened: before the session opened, or on an open session. */
export type FaultPhase = 'handshake' | 'open'

/** The failure, as far as the decision cares. */
export type FaultKind =
  /** The peer refused us for good (bad protocol, features, authorizer). */
  | 'refused'
  /** The peer answered WAIT: its own connection to us will win the race. */
  | 'wait'
  /** Anything else: socket error, timeout, bad input, peer closed. */
  | 'error'

export interface FaultInput {
  phase: FaultPhase
  kind: FaultKind
  policy: Pick<Policy, 'server' | 'standby'>
  lossy: boolean
  /** A newer socket from the same peer is taking the session over (not a fault of the session). */
  replaced: boolean
  /** Nothing is queued to send (out_q empty, no keepalive pending). */
  idle: boolean
  /** We know a listening address of the peer (we dialled it, or it told us one). */
  canDial: boolean
  /** The backoff used by the last failed attempt (0 after a success). */
  backoffMs: number
  initialBackoffMs: number
  maxBackoffMs: number
}

export type FaultDecision =
  /** Replaced by a newer socket: put unacknowledged messages back, let the new socket run. */
  | { action: 'replaced' }
  /** The session ends; report `event` to the dispatchers. */
  | { action: 'close', event: 'reset' | 'refused' }
  /** Wait for the peer's connection (connection race lost); retry after the longest backoff. */
  | { action: 'wait' }
  /** Go idle until there is something to send (or, for a server, until the peer reconnects). */
  | { action: 'standby' }
  /**
   * Reconnect after `backoffMs` (0 = at once). `bumpConnectSeq`: an open session faulted, so
   * the next connect carries connect_seq + 1.
   */
  | { action: 'reconnect', backoffMs: number, bumpConnectSeq: boolean }

/** Exponential backoff between failed attempts, from initial to max (Ceph's ms_initial/max_backoff). */
export function nextBackoff (previousMs: number, initialMs: number, maxMs: number): number {
  return previousMs === 0 ? initialMs : Math.min(previousMs * 2, maxMs)
}

export function decideFault (f: FaultInput): FaultDecision {
  if (f.replaced) return { action: 'replaced' }
  if (f.phase === 'handshake') {
    if (f.kind === 'refused') return { action: 'close', event: 'refused' }
    if (f.kind === 'wait') return { action: 'wait' }
    if (f.lossy) return { action: 'close', event: 'reset' }
    return { action: 'reconnect', backoffMs: nextBackoff(f.backoffMs, f.initialBackoffMs, f.maxBackoffMs), bumpConnectSeq: false }
  }
  if (f.lossy) return { action: 'close', event: 'reset' }
  if (f.kind === 'refused') return { action: 'close', event: 'refused' }
  if (f.policy.standby && f.idle) return { action: 'standby' }
  // A server never dials; nor can we when the peer never told us where it listens.
  if (f.policy.server || !f.canDial) return { action: 'standby' }
  return { action: 'reconnect', backoffMs: 0, bumpConnectSeq: true }
}
