// ceph_msg_header (53 bytes; its crc covers the first 49) and the two footers:
// ceph_msg_footer (21 bytes, when MSG_AUTH is negotiated) and ceph_msg_footer_old (13 bytes).
import { FOOTER_LEN, FOOTER_OLD_LEN, HEADER_CRC_LEN, HEADER_LEN } from './constants.ts'
import { crc32cRange } from './crc32c.ts'
import type { EntityName } from './entity-name.ts'

export interface MsgHeader {
  seq: number
  tid: number
  type: number
  priority: number
  version: number
  frontLen: number
  middleLen: number
  dataLen: number
  dataOff: number
  src: EntityName
  compatVersion: number
  reserved: number
  crc: number
}

export interface MsgFooter {
  frontCrc: number
  middleCrc: number
  dataCrc: number
  /** Message signature (cephx session security); 0n otherwise. Absent from the old footer. */
  sig: bigint
  flags: number
}

function u32 (b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000
}

function putU32 (out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff
  out[at + 1] = (v >>> 8) & 0xff
  out[at + 2] = (v >>> 16) & 0xff
  out[at + 3] = (v >>> 24) & 0xff
}

/**
 * Decode the 53 header bytes at `at` (no crc check here; see headerCrc). Pass the previous
 * header's src as `prevSrc`: a stream's messages nearly always come from one entity, and sharing
 * that (never mutated) EntityName saves an object per message.
 */
export function decodeHeader (b: Uint8Array, at = 0, prevSrc?: EntityName): MsgHeader {
  return decodeHeaderInto(blankHeader(), b, at, prevSrc)
}

const NO_SRC: EntityName = Object.freeze({ type: 0, num: 0 })

/** A header of zeros, to decode into. */
export function blankHeader (): MsgHeader {
  return { seq: 0, tid: 0, type: 0, priority: 0, version: 0, frontLen: 0, middleLen: 0, dataLen: 0, dataOff: 0, src: NO_SRC, compatVersion: 0, reserved: 0, crc: 0 }
}

/** A footer of zeros, to decode into. */
export function blankFooter (): MsgFooter {
  return { frontCrc: 0, middleCrc: 0, dataCrc: 0, sig: 0n, flags: 0 }
}

/** decodeHeader into an existing header object (a reader that reuses one per connection). */
export function decodeHeaderInto (h: MsgHeader, b: Uint8Array, at: number, prevSrc?: EntityName): MsgHeader {
  return decodeHeaderView(h, new DataView(b.buffer, b.byteOffset, b.length), at, prevSrc)
}

/**
 * decodeHeaderInto from a DataView of the bytes (`at` relative to the view): one load per field
 * instead of one per byte, and the view of a socket chunk is made once for all its headers.
 */
export function decodeHeaderView (h: MsgHeader, v: DataView, at: number, prevSrc?: EntityName): MsgHeader {
  const srcType = v.getUint8(at + 36)
  const srcNum = v.getInt32(at + 41, true) * 0x100000000 + v.getUint32(at + 37, true)
  h.seq = v.getUint32(at + 4, true) * 0x100000000 + v.getUint32(at, true)
  h.tid = v.getUint32(at + 12, true) * 0x100000000 + v.getUint32(at + 8, true)
  h.type = v.getUint16(at + 16, true)
  h.priority = v.getUint16(at + 18, true)
  h.version = v.getUint16(at + 20, true)
  h.frontLen = v.getUint32(at + 22, true)
  h.middleLen = v.getUint32(at + 26, true)
  h.dataLen = v.getUint32(at + 30, true)
  h.dataOff = v.getUint16(at + 34, true)
  h.src = prevSrc !== undefined && prevSrc.type === srcType && prevSrc.num === srcNum ? prevSrc : { type: srcType, num: srcNum }
  h.compatVersion = v.getUint16(at + 45, true)
  h.reserved = v.getUint16(at + 47, true)
  h.crc = v.getUint32(at + 49, true)
  return h
}

export function headerCrc (b: Uint8Array, at = 0): number {
  // In place: no view per header (49 bytes is below the size where the native crc pays off).
  return crc32cRange(b, at, at + HEADER_CRC_LEN)
}

/**
 * Write a header into `out` at `at`. With `withCrc` the crc field is computed over the 49 bytes
 * just written (Ceph's ms_crc_header); otherwise it is `h.crc` as given (normally 0).
 */
export function encodeHeaderInto (h: MsgHeader, out: Uint8Array, at: number, withCrc: boolean): number {
  return encodeHeaderFields(h, h.frontLen, h.middleLen, h.dataLen, out, at, withCrc, h.crc)
}

/** The header fields a sender chooses; the section lengths come from the payload. */
export type HeaderFields = Omit<MsgHeader, 'frontLen' | 'middleLen' | 'dataLen' | 'crc' | 'reserved'> & { reserved?: number }

/**
 * encodeHeaderInto without building a MsgHeader first (the per-message send path). `v` is a
 * DataView of `out` with the same offsets (a writer keeps one per block), so each field is one
 * store.
 */
export function encodeHeaderFields (h: HeaderFields, frontLen: number, middleLen: number, dataLen: number, out: Uint8Array, at: number, withCrc: boolean, crcIfOff = 0, v = new DataView(out.buffer, out.byteOffset, out.length)): number {
  setU64(v, at, h.seq)
  setU64(v, at + 8, h.tid)
  v.setUint16(at + 16, h.type, true)
  v.setUint16(at + 18, h.priority, true)
  v.setUint16(at + 20, h.version, true)
  v.setUint32(at + 22, frontLen, true)
  v.setUint32(at + 26, middleLen, true)
  v.setUint32(at + 30, dataLen, true)
  v.setUint16(at + 34, h.dataOff, true)
  v.setUint8(at + 36, h.src.type)
  // s64: the high word carries the sign (-1 is "unassigned").
  const num = h.src.num
  const hi = Math.floor(num / 0x100000000)
  v.setUint32(at + 37, num - hi * 0x100000000, true)
  v.setInt32(at + 41, hi, true)
  v.setUint16(at + 45, h.compatVersion, true)
  v.setUint16(at + 47, h.reserved ?? 0, true)
  const crc = withCrc ? headerCrc(out, at) : crcIfOff >>> 0
  v.setUint32(at + 49, crc, true)
  return crc
}

/** u64 LE from a non-negative safe integer. */
function setU64 (v: DataView, at: number, x: number): void {
  if (x <= 0xffffffff) {
    v.setUint32(at, x, true)
    v.setUint32(at + 4, 0, true)
    return
  }
  const hi = Math.floor(x / 0x100000000)
  v.setUint32(at, x - hi * 0x100000000, true)
  v.setUint32(at + 4, hi, true)
}

export function encodeHeader (h: MsgHeader, withCrc = true): Uint8Array {
  const out = new Uint8Array(HEADER_LEN)
  encodeHeaderInto(h, out, 0, withCrc)
  return out
}

export function footerLen (msgAuth: boolean): number {
  return msgAuth ? FOOTER_LEN : FOOTER_OLD_LEN
}

export function decodeFooter (b: Uint8Array, at: number, msgAuth: boolean): MsgFooter {
  return decodeFooterInto(blankFooter(), b, at, msgAuth)
}

/** decodeFooter into an existing footer object. */
export function decodeFooterInto (f: MsgFooter, b: Uint8Array, at: number, msgAuth: boolean): MsgFooter {
  return decodeFooterView(f, new DataView(b.buffer, b.byteOffset, b.length), at, msgAuth)
}

/** decodeFooterInto from a DataView of the bytes (`at` relative to the view). */
export function decodeFooterView (f: MsgFooter, v: DataView, at: number, msgAuth: boolean): MsgFooter {
  f.frontCrc = v.getUint32(at, true)
  f.middleCrc = v.getUint32(at + 4, true)
  f.dataCrc = v.getUint32(at + 8, true)
  if (msgAuth) {
    const lo = v.getUint32(at + 12, true)
    const hi = v.getUint32(at + 16, true)
    // Unsigned messages (all of them without cephx signing) skip the BigInt arithmetic.
    f.sig = (hi | lo) === 0 ? 0n : (BigInt(hi) << 32n) | BigInt(lo)
    f.flags = v.getUint8(at + 20)
  } else {
    f.sig = 0n
    f.flags = v.getUint8(at + 12)
  }
  return f
}

/** Write a footer into `out` at `at`; `v` is a DataView of `out` with the same offsets. */
export function encodeFooterInto (f: MsgFooter, out: Uint8Array, at: number, msgAuth: boolean, v = new DataView(out.buffer, out.byteOffset, out.length)): void {
  v.setUint32(at, f.frontCrc, true)
  v.setUint32(at + 4, f.middleCrc, true)
  v.setUint32(at + 8, f.dataCrc, true)
  if (msgAuth) {
    if (f.sig === 0n) {
      v.setUint32(at + 12, 0, true)
      v.setUint32(at + 16, 0, true)
    } else {
      const sig = BigInt.asUintN(64, f.sig)
      v.setUint32(at + 12, Number(sig & 0xffffffffn), true)
      v.setUint32(at + 16, Number(sig >> 32n), true)
    }
    v.setUint8(at + 20, f.flags)
  } else {
    v.setUint8(at + 12, f.flags)
  }
}

export function encodeFooter (f: MsgFooter, msgAuth: boolean): Uint8Array {
  const out = new Uint8Array(footerLen(msgAuth))
  encodeFooterInto(f, out, 0, msgAuth)
  return out
}

export { u32 as readU32, putU32 as writeU32 }
