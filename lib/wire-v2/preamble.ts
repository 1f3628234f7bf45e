// The 32-byte preamble, the same in crc and secure mode:
//   u8 tag, u8 num_segments, 4 x { u32 length, u16 alignment }, u8 flags, u8 reserved,
//   u32 crc32c(seed 0, first 28 bytes)
// Its checks follow linux decode_preamble, with the one exception Ceph needs: WAIT is a frame
// of one empty segment (Linux, a client only, rejects it).
import { MAX_SEGMENTS, PREAMBLE_CRC_AT, PREAMBLE_LEN, SEGMENT_ALIGNS, Tag, isKnownTag, tagName } from './constants.ts'
import { crc32cRange } from '../wire/crc32c.ts'
import { V2Error, V2ErrorCode } from './errors.ts'
import type { V2Limits } from './limits.ts'

/** A validated preamble. Lengths beyond numSegments are 0 (whatever the slot held). */
export interface FrameDesc {
  tag: number
  numSegments: number
  len0: number
  len1: number
  len2: number
  len3: number
  aligns: [number, number, number, number]
  flags: number
}

/** calc_segment_count: trailing empty segments are not sent as counted, but at least one is. */
export function segmentCount (l1: number, l2: number, l3: number): number {
  if (l3 > 0) return 4
  if (l2 > 0) return 3
  if (l1 > 0) return 2
  return 1
}

/** Write the preamble for `tag` and these segment lengths into out[at, at + 32). */
export function encodePreambleInto (out: Uint8Array, at: number, tag: number, numSegments: number,
  len0: number, len1: number, len2: number, len3: number, flags = 0): void {
  const dv = new DataView(out.buffer, out.byteOffset + at, PREAMBLE_LEN)
  out.fill(0, at, at + PREAMBLE_LEN)
  out[at] = tag
  out[at + 1] = numSegments
  const lens = numSegments
  dv.setUint32(2, len0, true)
  dv.setUint16(6, SEGMENT_ALIGNS[0], true)
  if (lens > 1) { dv.setUint32(8, len1, true); dv.setUint16(12, SEGMENT_ALIGNS[1], true) }
  if (lens > 2) { dv.setUint32(14, len2, true); dv.setUint16(18, SEGMENT_ALIGNS[2], true) }
  if (lens > 3) { dv.setUint32(20, len3, true); dv.setUint16(24, SEGMENT_ALIGNS[3], true) }
  out[at + 26] = flags
  dv.setUint32(PREAMBLE_CRC_AT, crc32cRange(out, at, at + PREAMBLE_CRC_AT, 0), true)
}

function u32 (b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000
}

function u16 (b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8)
}

/**
 * Validate the preamble at b[at, at + 32) and describe the frame. `offset` is its stream
 * offset. Throws V2Error: BAD_PREAMBLE_CRC, BAD_SEGMENT_COUNT, UNKNOWN_TAG, TOO_LARGE,
 * BAD_SEGMENT_LEN. Nothing is allocated for the segments before these checks pass.
 */
export function decodePreamble (b: Uint8Array, at: number, limits: V2Limits, offset: number): FrameDesc {
  const crc = u32(b, at + PREAMBLE_CRC_AT)
  if (crcRange(b, at) !== crc) throw new V2Error(V2ErrorCode.BAD_PREAMBLE_CRC, 'preamble crc mismatch', offset + PREAMBLE_CRC_AT)
  const tag = b[at]
  const n = b[at + 1]
  if (n < 1 || n > MAX_SEGMENTS) throw new V2Error(V2ErrorCode.BAD_SEGMENT_COUNT, `num_segments ${n}`, offset + 1)
  if (!isKnownTag(tag)) throw new V2Error(V2ErrorCode.UNKNOWN_TAG, `frame tag ${tag}`, offset)
  // Slots beyond num_segments are ignored, as Linux does (Ceph leaves them zero).
  const len0 = u32(b, at + 2)
  const len1 = n > 1 ? u32(b, at + 8) : 0
  const len2 = n > 2 ? u32(b, at + 14) : 0
  const len3 = n > 3 ? u32(b, at + 20) : 0
  if (len0 > limits.maxControlLen) tooLarge('segment 0', len0, limits.maxControlLen, offset + 2)
  if (len1 > limits.maxFrontLen) tooLarge('front', len1, limits.maxFrontLen, offset + 8)
  if (len2 > limits.maxMiddleLen) tooLarge('middle', len2, limits.maxMiddleLen, offset + 14)
  if (len3 > limits.maxDataLen) tooLarge('data', len3, limits.maxDataLen, offset + 20)
  if (len0 + len1 + len2 + len3 > limits.maxFrameLen) tooLarge('frame', len0 + len1 + len2 + len3, limits.maxFrameLen, offset + 2)
  const last = n === 1 ? len0 : n === 2 ? len1 : n === 3 ? len2 : len3
  const wait = tag === Tag.WAIT && n === 1
  if (len0 === 0 && !wait) {
    throw new V2Error(V2ErrorCode.BAD_SEGMENT_LEN, `${tagName(tag)} with an empty segment 0`, offset + 2)
  }
  if (last === 0 && !wait) {
    throw new V2Error(V2ErrorCode.BAD_SEGMENT_LEN, `last of ${n} segments is empty`, offset + 2 + 6 * (n - 1))
  }
  return {
    tag,
    numSegments: n,
    len0,
    len1,
    len2,
    len3,
    aligns: [u16(b, at + 6), n > 1 ? u16(b, at + 12) : 0, n > 2 ? u16(b, at + 18) : 0, n > 3 ? u16(b, at + 24) : 0],
    flags: b[at + 26]
  }
}

function crcRange (b: Uint8Array, at: number): number {
  return crc32cRange(b, at, at + PREAMBLE_CRC_AT, 0)
}

function tooLarge (what: string, len: number, max: number, offset: number): never {
  throw new V2Error(V2ErrorCode.TOO_LARGE, `${what} length ${len} exceeds the limit ${max}`, offset)
}
