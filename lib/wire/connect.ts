// ceph_msg_connect (client → server, 33 bytes + authorizer) and ceph_msg_connect_reply
// (server → client, 26 bytes + authorizer), plus the u64 that each side sends after TAG_SEQ.
import { CONNECT_LEN, CONNECT_REPLY_LEN } from './constants.ts'

export interface ConnectMsg {
  features: bigint
  hostType: number
  globalSeq: number
  connectSeq: number
  protocolVersion: number
  authorizerProtocol: number
  /** Length on the wire; encode takes it from `authorizer`. */
  authorizerLen: number
  flags: number
  authorizer: Uint8Array
}

export interface ConnectReply {
  tag: number
  features: bigint
  globalSeq: number
  connectSeq: number
  protocolVersion: number
  authorizerLen: number
  flags: number
  authorizer: Uint8Array
}

const EMPTY = new Uint8Array(0)

export function encodeConnect (c: Omit<ConnectMsg, 'authorizerLen' | 'authorizer'> & { authorizer?: Uint8Array }): Uint8Array {
  const auth = c.authorizer ?? EMPTY
  const out = new Uint8Array(CONNECT_LEN + auth.length)
  const dv = new DataView(out.buffer)
  dv.setBigUint64(0, BigInt.asUintN(64, c.features), true)
  dv.setUint32(8, c.hostType >>> 0, true)
  dv.setUint32(12, c.globalSeq >>> 0, true)
  dv.setUint32(16, c.connectSeq >>> 0, true)
  dv.setUint32(20, c.protocolVersion >>> 0, true)
  dv.setUint32(24, c.authorizerProtocol >>> 0, true)
  dv.setUint32(28, auth.length, true)
  out[32] = c.flags & 0xff
  out.set(auth, CONNECT_LEN)
  return out
}

/** Decode the fixed 33-byte part; the authorizer bytes are attached by the caller. */
export function decodeConnectFixed (b: Uint8Array, at = 0): ConnectMsg {
  const dv = new DataView(b.buffer, b.byteOffset + at, CONNECT_LEN)
  return {
    features: dv.getBigUint64(0, true),
    hostType: dv.getUint32(8, true),
    globalSeq: dv.getUint32(12, true),
    connectSeq: dv.getUint32(16, true),
    protocolVersion: dv.getUint32(20, true),
    authorizerProtocol: dv.getUint32(24, true),
    authorizerLen: dv.getUint32(28, true),
    flags: b[at + 32],
    authorizer: EMPTY
  }
}

export function encodeConnectReply (r: Omit<ConnectReply, 'authorizerLen' | 'authorizer'> & { authorizer?: Uint8Array }): Uint8Array {
  const auth = r.authorizer ?? EMPTY
  const out = new Uint8Array(CONNECT_REPLY_LEN + auth.length)
  const dv = new DataView(out.buffer)
  out[0] = r.tag
  dv.setBigUint64(1, BigInt.asUintN(64, r.features), true)
  dv.setUint32(9, r.globalSeq >>> 0, true)
  dv.setUint32(13, r.connectSeq >>> 0, true)
  dv.setUint32(17, r.protocolVersion >>> 0, true)
  dv.setUint32(21, auth.length, true)
  out[25] = r.flags & 0xff
  out.set(auth, CONNECT_REPLY_LEN)
  return out
}

export function decodeConnectReplyFixed (b: Uint8Array, at = 0): ConnectReply {
  const dv = new DataView(b.buffer, b.byteOffset + at, CONNECT_REPLY_LEN)
  return {
    tag: b[at],
    features: dv.getBigUint64(1, true),
    globalSeq: dv.getUint32(9, true),
    connectSeq: dv.getUint32(13, true),
    protocolVersion: dv.getUint32(17, true),
    authorizerLen: dv.getUint32(21, true),
    flags: b[at + 25],
    authorizer: EMPTY
  }
}

/** The u64 in_seq each side sends in the TAG_SEQ exchange. */
export function encodeSeq (seq: number): Uint8Array {
  const out = new Uint8Array(8)
  writeU64(out, 0, seq)
  return out
}

/** u64 LE from a safe integer, without BigInt on the hot path. */
export function writeU64 (out: Uint8Array, at: number, v: number): void {
  if (v <= 0xffffffff) {
    // The common case (seqs, tids): no floating-point division.
    out[at] = v & 0xff
    out[at + 1] = (v >>> 8) & 0xff
    out[at + 2] = (v >>> 16) & 0xff
    out[at + 3] = (v >>> 24) & 0xff
    out[at + 4] = 0
    out[at + 5] = 0
    out[at + 6] = 0
    out[at + 7] = 0
    return
  }
  const lo = v % 0x100000000
  const hi = (v - lo) / 0x100000000
  out[at] = lo & 0xff
  out[at + 1] = (lo >>> 8) & 0xff
  out[at + 2] = (lo >>> 16) & 0xff
  out[at + 3] = (lo >>> 24) & 0xff
  out[at + 4] = hi & 0xff
  out[at + 5] = (hi >>> 8) & 0xff
  out[at + 6] = (hi >>> 16) & 0xff
  out[at + 7] = (hi >>> 24) & 0xff
}

/** u64 LE as a number (exact below 2^53, which seqs and tids never reach). */
export function readU64 (b: Uint8Array, at: number): number {
  const lo = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000
  const hi = (b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16)) + b[at + 7] * 0x1000000
  return hi * 0x100000000 + lo
}
