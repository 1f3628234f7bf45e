// The server's decisions in msgr2's session phase (ProtocolV2 handle_client_ident +
// handle_existing_connection, and handle_reconnect), as pure functions of the frame, our policy
// and the session we already hold with that peer. The accept handshake carries them out.

/** What the server knows of a session it holds with the peer. */
export interface ExistingV2 {
  connectSeq: number
  peerGlobalSeq: number
  lossy: boolean
  /** Gone (marked down): as good as no session. */
  closed: boolean
  /** Another socket is taking it over right now. */
  replacing: boolean
  /** Open or in standby (Ceph's READY / STANDBY): it had a working session. */
  established: boolean
  /** The existing connection's policy is a server's (it never dials). */
  policyServer: boolean
  clientCookie: bigint
  serverCookie: bigint
}

export interface IdentInput {
  /** The CLIENT_IDENT's supported features, and what we require of this peer (msgr2's bits included). */
  supported: bigint
  required: bigint
  globalSeq: number
  cookie: bigint
  resetcheck: boolean
  existing: ExistingV2 | undefined
  /** The peer's msgr2 address sorts below ours: it wins a connection race. */
  peerAddrLower: boolean
}

export type IdentDecision =
  /** IDENT_MISSING_FEATURES, then the client gives up. */
  | { action: 'refuse', missing: bigint, reason: string }
  /** A new session. */
  | { action: 'open', reason: string }
  /** This socket takes the existing session over; `reset`: reset it first (the peer restarted). */
  | { action: 'replace', reset: boolean, reason: string }
  /** WAIT: our own connection to the peer wins; the peer backs off. */
  | { action: 'wait', reason: string }
  /** A stale socket (an older global_seq than the session's): close it without a word. */
  | { action: 'drop', reason: string }

export function decideIdent (inp: IdentInput): IdentDecision {
  const missing = inp.required & ~inp.supported
  if (missing !== 0n) return { action: 'refuse', missing, reason: `peer lacks required features 0x${missing.toString(16)}` }
  const e = inp.existing
  if (e === undefined || e.closed) return { action: 'open', reason: 'new session' }
  if (e.replacing) return { action: 'wait', reason: 'existing session is being replaced' }
  if (e.peerGlobalSeq > inp.globalSeq) return { action: 'drop', reason: `stale global_seq ${inp.globalSeq} < ${e.peerGlobalSeq}` }
  if (e.lossy) return { action: 'replace', reset: true, reason: 'lossy session replaced' }
  if (e.serverCookie !== 0n && e.clientCookie !== 0n && e.clientCookie !== inp.cookie) {
    return { action: 'replace', reset: inp.resetcheck, reason: 'peer reset (new client cookie)' }
  }
  if (e.clientCookie === inp.cookie) return { action: 'replace', reset: false, reason: 'session establishment resumed' }
  if (e.established) return { action: 'replace', reset: false, reason: 'existing session reused' }
  // Both sides are connecting to each other: the lower address's incoming connection wins.
  if (inp.peerAddrLower || e.policyServer) return { action: 'replace', reset: false, reason: 'connection race won by peer' }
  return { action: 'wait', reason: 'connection race won by us' }
}

export interface ReconnectInput {
  clientCookie: bigint
  serverCookie: bigint
  globalSeq: number
  connectSeq: number
  resetcheck: boolean
  existing: ExistingV2 | undefined
  /** The peer's msgr2 address sorts above ours (it loses a reconnect race unless we never dial). */
  peerAddrHigher: boolean
}

export type ReconnectDecision =
  /** SESSION_RESET: start a new session with CLIENT_IDENT; `full` also drops what the client holds. */
  | { action: 'reset', full: boolean, reason: string }
  /** SESSION_RETRY: reconnect with connect_seq above this one. */
  | { action: 'retry', connectSeq: number, reason: string }
  /** SESSION_RETRY_GLOBAL: reconnect with a global_seq above this one. */
  | { action: 'retry_global', globalSeq: number, reason: string }
  | { action: 'wait', reason: string }
  /** RECONNECT_OK: this socket resumes the session. */
  | { action: 'reconnect', reason: string }

export function decideReconnect (inp: ReconnectInput): ReconnectDecision {
  const e = inp.existing
  if (e === undefined) return { action: 'reset', full: true, reason: 'no session to reconnect to' }
  if (e.closed) return { action: 'reset', full: true, reason: 'session already closed' }
  if (e.replacing) return { action: 'retry_global', globalSeq: e.peerGlobalSeq, reason: 'existing session is being replaced' }
  if (e.clientCookie !== inp.clientCookie) {
    return { action: 'reset', full: inp.resetcheck, reason: 'client cookie mismatch: we must have reset' }
  }
  if (e.serverCookie === 0n) {
    // We dialled, sent CLIENT_IDENT, and never got SERVER_IDENT: finish establishing instead.
    return { action: 'reset', full: false, reason: 'session never established on our side' }
  }
  if (e.peerGlobalSeq > inp.globalSeq) {
    return { action: 'retry_global', globalSeq: e.peerGlobalSeq, reason: `stale global_seq ${inp.globalSeq} < ${e.peerGlobalSeq}` }
  }
  if (e.connectSeq > inp.connectSeq) {
    return { action: 'retry', connectSeq: e.connectSeq, reason: `stale connect_seq ${inp.connectSeq} < ${e.connectSeq}` }
  }
  if (e.connectSeq === inp.connectSeq) {
    // Both ends reconnecting at once.
    if (inp.peerAddrHigher && !e.policyServer) return { action: 'wait', reason: 'reconnect race won by us' }
    return { action: 'reconnect', reason: 'reconnect race won by peer' }
  }
  return { action: 'reconnect', reason: 'reconnect' }
}
