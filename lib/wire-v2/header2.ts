// ceph_msg_header2, segment 0 of a MESSAGE frame (41 bytes, packed, little-endian):
//   u64 seq, u64 tid, u16 type, u16 priority, u16 version, u32 data_pre_padding_len,
//   u16 data_off, u64 ack_seq, u8 flags, u16 compat_version, u16 reserved
// Unlike v1's header it has no section lengths (the preamble has them), no src (the session
// knows the peer) and no crc.
import { HEADER2_LEN } from './constants.ts'
import { V2Error, V2ErrorCode } from './errors.ts'

export interface MsgHeader2 {
  /** seq, tid and ackSeq are u64 on the wire; values beyond 2^53 - 1 are refused. */
  seq: number
  tid: number
  type: number
  priority: number
  version: number
  dataPrePaddingLen: number
  dataOff: number
  ackSeq: number
  flags: number
  compatVersion: number
  reserved: number
}

function getU32 (b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000
}

function getU16 (b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8)
}

/** A u64 as a number, read as two halves (no BigInt on the message path). */
function getU64 (b: Uint8Array, at: number, offset: number, what: string): number {
  const hi = getU32(b, at + 4)
  if (hi > 0x1fffff) throw new V2Error(V2ErrorCode.BAD_PAYLOAD, `${what} exceeds 2^53 - 1`, offset + at)
  return hi * 0x100000000 + getU32(b, at)
}

function putU16 (out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff
  out[at + 1] = (v >>> 8) & 0xff
}

function putU32 (out: Uint8Array, at: number, v: number): void {
  putU16(out, at, v & 0xffff)
  putU16(out, at + 2, v >>> 16)
}

function putU64 (out: Uint8Array, at: number, v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} out of range: ${v}`)
  putU32(out, at, v % 0x100000000)
  putU32(out, at + 4, Math.floor(v / 0x100000000))
}

function check (v: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} out of range: ${v}`)
  return v
}

export function encodeHeader2Into (h: MsgHeader2, out: Uint8Array, at: number): void {
  putU64(out, at, h.seq, 'seq')
  putU64(out, at + 8, h.tid, 'tid')
  putU16(out, at + 16, check(h.type, 0xffff, 'type'))
  putU16(out, at + 18, check(h.priority, 0xffff, 'priority'))
  putU16(out, at + 20, check(h.version, 0xffff, 'version'))
  putU32(out, at + 22, check(h.dataPrePaddingLen, 0xffffffff, 'data_pre_padding_len'))
  putU16(out, at + 26, check(h.dataOff, 0xffff, 'data_off'))
  putU64(out, at + 28, h.ackSeq, 'ack_seq')
  out[at + 36] = check(h.flags, 0xff, 'flags')
  putU16(out, at + 37, check(h.compatVersion, 0xffff, 'compat_version'))
  putU16(out, at + 39, check(h.reserved, 0xffff, 'reserved'))
}

export function encodeHeader2 (h: MsgHeader2): Uint8Array {
  const out = new Uint8Array(HEADER2_LEN)
  encodeHeader2Into(h, out, 0)
  return out
}

/** Decode segment 0 of a MESSAGE frame; it must be exactly 41 bytes. `offset`: its stream offset. */
export function decodeHeader2 (b: Uint8Array, offset = 0): MsgHeader2 {
  if (b.length !== HEADER2_LEN) {
    throw new V2Error(V2ErrorCode.BAD_PAYLOAD, `ceph_msg_header2 of ${b.length} bytes, expected ${HEADER2_LEN}`, offset)
  }
  return {
    seq: getU64(b, 0, offset, 'seq'),
    tid: getU64(b, 8, offset, 'tid'),
    type: getU16(b, 16),
    priority: getU16(b, 18),
    version: getU16(b, 20),
    dataPrePaddingLen: getU32(b, 22),
    dataOff: getU16(b, 26),
    ackSeq: getU64(b, 28, offset, 'ack_seq'),
    flags: b[36],
    compatVersion: getU16(b, 37),
    reserved: getU16(b, 39)
  }
}
