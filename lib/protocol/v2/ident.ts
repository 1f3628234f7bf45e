// Phase 4 building blocks: CLIENT_IDENT / SERVER_IDENT (addrvec, gid, global_seq, features,
// flags, cookie), the addresses they carry, and the Session transitions a v2 open makes.
// msgr2 counts connect_seq from 0 for a new session and bumps it only for a reconnect (the v1
// handshake bumps it on every open), so the open is expressed through the Session's generic
// transitions here.
import type { ClientIdentFrame, ServerIdentFrame } from '../../wire-v2/frames.ts'
import { Tag } from '../../wire-v2/constants.ts'
import { AddrType, isBlankIp } from '../../wire/entity-addr.ts'
import type { EntityAddr } from '../../wire/entity-addr.ts'
import { Feature } from '../../wire/features.ts'
import type { Policy } from '../../session/policy.ts'
import type { Session, Sequenced } from '../../session/session.ts'

/** Features every msgr2 peer must have (Ceph's msgr2_required). */
export const MSGR2_REQUIRED = Feature.MSG_ADDR2
/** Ident flags: the sender's policy is lossy. */
export const IDENT_LOSSY = 1n

/**
 * Our addresses as an ident states them: an address without an IP takes the one the peer saw
 * (its HELLO); an address we do not listen on (port 0) is "any", as Ceph's clients send it.
 */
export function identAddrs (mine: readonly EntityAddr[], seenByPeer: EntityAddr | undefined): EntityAddr[] {
  return mine.map((a) => {
    let out = a
    if (isBlankIp(a) && seenByPeer !== undefined && !isBlankIp(seenByPeer)) {
      out = { ...a, family: seenByPeer.family, ip: seenByPeer.ip }
    }
    if (out.port === 0 && out.type !== AddrType.ANY) out = { ...out, type: AddrType.ANY }
    else if (out.port !== 0 && out.type === AddrType.LEGACY) out = { ...out, type: AddrType.MSGR2 }
    return out
  })
}

/** Same endpoint, forgiving a blank IP on either side (addresses parsed from a mon_host list). */
export function sameEndpoint (a: EntityAddr, b: EntityAddr): boolean {
  if (a.port !== b.port) return false
  return isBlankIp(a) || isBlankIp(b) || a.ip === b.ip
}

export function clientIdent (p: {
  addrs: EntityAddr[]
  target: EntityAddr
  gid: number
  globalSeq: number
  policy: Policy
  cookie: bigint
}): ClientIdentFrame {
  return {
    tag: Tag.CLIENT_IDENT,
    addrs: p.addrs,
    targetAddr: p.target,
    gid: BigInt(p.gid),
    globalSeq: BigInt(p.globalSeq),
    supportedFeatures: p.policy.featuresSupported,
    requiredFeatures: p.policy.featuresRequired | MSGR2_REQUIRED,
    flags: p.policy.lossy ? IDENT_LOSSY : 0n,
    cookie: p.cookie
  }
}

export function serverIdent (p: { addrs: EntityAddr[], gid: number, globalSeq: number, policy: Policy, cookie: bigint }): ServerIdentFrame {
  return {
    tag: Tag.SERVER_IDENT,
    addrs: p.addrs,
    gid: BigInt(p.gid),
    globalSeq: BigInt(p.globalSeq),
    supportedFeatures: p.policy.featuresSupported,
    requiredFeatures: p.policy.featuresRequired | MSGR2_REQUIRED,
    flags: p.policy.lossy ? IDENT_LOSSY : 0n,
    cookie: p.cookie
  }
}

/** A u64 from the wire as a seq number (they never pass 2^53 in practice; clamp rather than wrap). */
export function seqNumber (v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v)
}

/**
 * The session is open at `connectSeq` (msgr2 numbering), with the peer's global_seq and the
 * lossiness agreed; the peer knows our in_seq (the handshake told it).
 */
export function markOpened (session: Session<Sequenced>, peerGlobalSeq: number, lossy: boolean, connectSeq: number): void {
  session.restore({ connectSeq: connectSeq - 1, inSeq: session.inSeq, outSeq: session.outSeq })
  session.clientOpened(peerGlobalSeq, lossy, connectSeq)
}

/** A non-full SESSION_RESET: the session starts over (connect_seq and in_seq 0), keeping what it has to send. */
export function restartSession (session: Session<Sequenced>): void {
  session.restore({ connectSeq: 0, inSeq: 0, outSeq: session.outSeq })
}
