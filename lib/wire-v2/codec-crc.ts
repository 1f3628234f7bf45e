// msgr2.1 crc mode on the wire:
//   preamble(32) | segment0 | u32 crc32c(-1, segment0)
//   [ if num_segments > 1: segment1 | segment2 | segment3 | epilogue(13) ]
//   epilogue = u8 late_status | u32 crc(seg1) | u32 crc(seg2) | u32 crc(seg3)
// A counted segment's crc is crc32c(-1, bytes) (0xffffffff when empty); Ceph writes 0 for the
// segments beyond num_segments and checks only the counted ones, and so do we.
import { crc32c } from '../wire/crc32c.ts'
import type { ByteQueue } from '../wire/byte-queue.ts'
import { view } from '../wire/view.ts'
import { CRC_LEN, EPILOGUE_CRC_LEN, LateStatus, PREAMBLE_LEN } from './constants.ts'
import { V2Error, V2ErrorCode } from './errors.ts'
import type { Frame, FrameReader } from './frame.ts'
import { decodePreamble, encodePreambleInto, segmentCount } from './preamble.ts'
import type { FrameDesc } from './preamble.ts'
import type { V2Limits } from './limits.ts'

const EMPTY = new Uint8Array(0)
const SEED = 0xffffffff
/** Frames up to this size go out as one buffer; larger ones keep their big segments as given. */
export const COPY_MAX = 16 * 1024

/** Bytes a crc-mode frame takes on the wire. */
export function crcFrameLen (len0: number, numSegments: number, len1: number, len2: number, len3: number): number {
  return PREAMBLE_LEN + len0 + CRC_LEN + (numSegments > 1 ? len1 + len2 + len3 + EPILOGUE_CRC_LEN : 0)
}

function putU32 (out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff
  out[at + 1] = (v >>> 8) & 0xff
  out[at + 2] = (v >>> 16) & 0xff
  out[at + 3] = (v >>> 24) & 0xff
}

function getU32 (b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000
}

function writeEpilogue (out: Uint8Array, at: number, n: number, s1: Uint8Array, s2: Uint8Array, s3: Uint8Array, lateStatus: number): void {
  out[at] = lateStatus
  putU32(out, at + 1, n > 1 ? crc32c(s1, SEED) : 0)
  putU32(out, at + 5, n > 2 ? crc32c(s2, SEED) : 0)
  putU32(out, at + 9, n > 3 ? crc32c(s3, SEED) : 0)
}

/**
 * Encode one frame in crc mode. `segments` holds 1 to 4 segments (missing ones are empty).
 * Returns the wire bytes as a list for a gathered write: one buffer for frames up to COPY_MAX,
 * else head, the non-empty segments as given (not copied) and the epilogue.
 * `lateStatus` is for tests of aborted frames.
 */
export function encodeFrameCrc (tag: number, segments: readonly Uint8Array[], lateStatus: number = LateStatus.COMPLETE): Uint8Array[] {
  const s0 = segments[0] ?? EMPTY
  const s1 = segments[1] ?? EMPTY
  const s2 = segments[2] ?? EMPTY
  const s3 = segments[3] ?? EMPTY
  const n = segmentCount(s1.length, s2.length, s3.length)
  const total = crcFrameLen(s0.length, n, s1.length, s2.length, s3.length)
  const headLen = PREAMBLE_LEN + s0.length + CRC_LEN
  const out = new Uint8Array(total <= COPY_MAX ? total : headLen)
  encodePreambleInto(out, 0, tag, n, s0.length, s1.length, s2.length, s3.length)
  out.set(s0, PREAMBLE_LEN)
  putU32(out, PREAMBLE_LEN + s0.length, crc32c(s0, SEED))
  if (n === 1) return [out]
  if (total <= COPY_MAX) {
    let at = headLen
    out.set(s1, at); at += s1.length
    out.set(s2, at); at += s2.length
    out.set(s3, at); at += s3.length
    writeEpilogue(out, at, n, s1, s2, s3, lateStatus)
    return [out]
  }
  const epilogue = new Uint8Array(EPILOGUE_CRC_LEN)
  writeEpilogue(epilogue, 0, n, s1, s2, s3, lateStatus)
  const list: Uint8Array[] = [out]
  if (s1.length > 0) list.push(s1)
  if (s2.length > 0) list.push(s2)
  if (s3.length > 0) list.push(s3)
  list.push(epilogue)
  return list
}

/** Check an epilogue's late_status: ABORTED is reported as such, anything else unknown is fatal. */
export function checkLateStatus (late: number, offset: number): void {
  const s = late & LateStatus.MASK
  if (s === LateStatus.COMPLETE) return
  if (s === LateStatus.ABORTED) throw new V2Error(V2ErrorCode.FRAME_ABORTED, 'the sender aborted this frame', offset)
  throw new V2Error(V2ErrorCode.BAD_LATE_STATUS, `late_status 0x${late.toString(16)}`, offset)
}

/** Reads crc-mode frames. It looks no further than the frame it returns, so the mode can change after any frame. */
export class CrcFrameReader implements FrameReader {
  private readonly limits: V2Limits
  private desc: FrameDesc | undefined
  private wireLen = 0

  constructor (limits: V2Limits) {
    this.limits = limits
  }

  get midFrame (): boolean {
    return this.desc !== undefined
  }

  read (q: ByteQueue): Frame | undefined {
    let d = this.desc
    if (d === undefined) {
      if (q.length < PREAMBLE_LEN) return undefined
      d = decodePreamble(q.peek(PREAMBLE_LEN), 0, this.limits, q.consumed)
      this.desc = d
      this.wireLen = crcFrameLen(d.len0, d.numSegments, d.len1, d.len2, d.len3)
    }
    if (q.length < this.wireLen) return undefined
    this.desc = undefined
    const offset = q.consumed
    // One view of the whole frame when it lies in one socket chunk, else one copy.
    const raw = q.take(this.wireLen)
    let at = PREAMBLE_LEN
    const s0 = view(raw, at, at + d.len0)
    at += d.len0
    if (crc32c(s0, SEED) !== getU32(raw, at)) {
      throw new V2Error(V2ErrorCode.BAD_SEGMENT_CRC, 'segment 0 crc mismatch', offset + at)
    }
    at += CRC_LEN
    if (d.numSegments === 1) {
      return { tag: d.tag, numSegments: 1, segments: [s0, EMPTY, EMPTY, EMPTY], aligns: d.aligns, flags: d.flags, offset, raw }
    }
    const s1 = d.len1 > 0 ? view(raw, at, at + d.len1) : EMPTY
    at += d.len1
    const s2 = d.len2 > 0 ? view(raw, at, at + d.len2) : EMPTY
    at += d.len2
    const s3 = d.len3 > 0 ? view(raw, at, at + d.len3) : EMPTY
    at += d.len3
    checkLateStatus(raw[at], offset + at)
    const n = d.numSegments
    if (crc32c(s1, SEED) !== getU32(raw, at + 1)) badCrc(1, offset + at + 1)
    if (n > 2 && crc32c(s2, SEED) !== getU32(raw, at + 5)) badCrc(2, offset + at + 5)
    if (n > 3 && crc32c(s3, SEED) !== getU32(raw, at + 9)) badCrc(3, offset + at + 9)
    return { tag: d.tag, numSegments: n, segments: [s0, s1, s2, s3], aligns: d.aligns, flags: d.flags, offset, raw }
  }
}

function badCrc (i: number, offset: number): never {
  throw new V2Error(V2ErrorCode.BAD_SEGMENT_CRC, `segment ${i} crc mismatch`, offset)
}
