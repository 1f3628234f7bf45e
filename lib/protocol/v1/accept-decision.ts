// The server's decision on a connect message (ProtocolV1 handle_connect_message_2 and its
// replace/open paths), as a pure function of the connect, our policy and any session we already
// hold with that peer. The connection carries the decision out.
import { Tag } from '../../wire/constants.ts'
import type { ConnectMsg } from '../../wire/connect.ts'
import type { Policy } from '../../session/policy.ts'

export interface ExistingSession {
  connectSeq: number
  peerGlobalSeq: number
  lossy: boolean
  /** Its own outgoing handshake is in progress (a connection race). */
  connecting: boolean
  /** Open or standby: it had a working session. */
  established: boolean
  closed: boolean
  /** Being replaced by another incoming socket right now. */
  replacing: boolean
  policyServer: boolean
}

export type AcceptDecision =
  /** Reply with this tag and wait for another connect on the same socket. */
  | { action: 'retry', tag: number, globalSeq?: number, connectSeq?: number, reason: string }
  /** Refuse: reply with this tag (BADPROTOVER, FEATURES); the client faults. */
  | { action: 'refuse', tag: number, reason: string }
  /** Open a new session (no existing one, or it is gone). */
  | { action: 'open', reason: string }
  /**
   * Hand this socket to the existing session. `reset`: the peer lost its side of the session
   * (it restarted), so ours is reset first and the reply is READY (a "reset from peer").
   */
  | { action: 'replace', reset: boolean, reason: string }

export interface AcceptInput {
  connect: ConnectMsg
  myProtocol: number
  policy: Policy
  /** Our features_required for this peer, already including any auth-imposed bits. */
  required: bigint
  existing: ExistingSession | undefined
  /** memcmp(peer's legacy addr, my legacy addr) < 0: the peer wins a connection race. */
  peerAddrLower: boolean
}

export function decideAccept (inp: AcceptInput): AcceptDecision {
  const { connect, policy, existing: e } = inp
  if (connect.protocolVersion !== inp.myProtocol) {
    return { action: 'refuse', tag: Tag.BADPROTOVER, reason: `protocol ${connect.protocolVersion} != ${inp.myProtocol}` }
  }
  if ((inp.required & ~connect.features) !== 0n) {
    return { action: 'refuse', tag: Tag.FEATURES, reason: `missing required features 0x${(inp.required & ~connect.features).toString(16)}` }
  }
  // A stateless server (the mon's policy for clients) never looks for an existing session.
  if (policy.server && policy.lossy) return { action: 'open', reason: 'stateless server' }

  if (e === undefined || e.closed) {
    if (e === undefined && connect.connectSeq > 0) {
      return { action: 'retry', tag: Tag.RESETSESSION, reason: 'no session for a reconnect' }
    }
    return { action: 'open', reason: 'new session' }
  }
  if (e.replacing) {
    return { action: 'retry', tag: Tag.RETRY_GLOBAL, globalSeq: e.peerGlobalSeq, reason: 'existing session is being replaced' }
  }
  if (connect.globalSeq < e.peerGlobalSeq) {
    return { action: 'retry', tag: Tag.RETRY_GLOBAL, globalSeq: e.peerGlobalSeq, reason: `global_seq ${connect.globalSeq} < ${e.peerGlobalSeq}` }
  }
  if (e.lossy) return { action: 'replace', reset: true, reason: 'lossy session replaced' }
  if (connect.connectSeq === 0 && e.connectSeq > 0) {
    // The peer restarted: its new session starts from scratch.
    return { action: 'replace', reset: policy.resetcheck, reason: 'peer reset (connect_seq 0)' }
  }
  if (connect.connectSeq < e.connectSeq) {
    return { action: 'retry', tag: Tag.RETRY_SESSION, connectSeq: e.connectSeq + 1, reason: `connect_seq ${connect.connectSeq} < ${e.connectSeq}` }
  }
  if (connect.connectSeq === e.connectSeq) {
    if (e.established) {
      if (policy.resetcheck && e.connectSeq === 0) return { action: 'replace', reset: false, reason: 'fresh session reconnect' }
      return { action: 'retry', tag: Tag.RETRY_SESSION, connectSeq: e.connectSeq + 1, reason: 'connect_seq equal on an open session' }
    }
    // Both sides are connecting at once: the lower address's incoming connection wins.
    if (inp.peerAddrLower || e.policyServer) return { action: 'replace', reset: false, reason: 'connection race won by peer' }
    return { action: 'retry', tag: Tag.WAIT, reason: 'connection race won by us' }
  }
  if (policy.resetcheck && e.connectSeq === 0) {
    return { action: 'retry', tag: Tag.RESETSESSION, reason: 'reconnect to a session that never opened' }
  }
  return { action: 'replace', reset: false, reason: 'reconnect' }
}
