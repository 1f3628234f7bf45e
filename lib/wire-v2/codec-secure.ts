// msgr2.1 secure mode on the wire (AES-128-GCM, one nonce per operation, no AAD):
//   op 1: [ preamble(32) | first min(len0, 48) bytes of segment 0, zero-padded to 48 ] -> 80 + tag 16
//   op 2, if len0 > 48: [ rest of segment 0, zero-padded to 16 ] + tag
//   op 3, if num_segments > 1: [ pad16(seg1) | pad16(seg2) | pad16(seg3) | late_status + 15 zeros ] + tag
// The preamble crc is still computed and checked, inside the ciphertext. There are no segment
// crcs: the tags cover everything. Every authentication failure is the one DECRYPT_FAILED.
import type { ByteQueue } from '../wire/byte-queue.ts'
import { view } from '../wire/view.ts'
import {
  EPILOGUE_SECURE_LEN, GCM_TAG_LEN, INLINE_LEN, LateStatus, PREAMBLE_LEN, PREAMBLE_SECURE_LEN, pad16
} from './constants.ts'
import { checkLateStatus, COPY_MAX } from './codec-crc.ts'
import { V2Error, V2ErrorCode } from './errors.ts'
import type { Frame, FrameReader } from './frame.ts'
import type { GcmCipher } from './gcm.ts'
import { decodePreamble, encodePreambleInto, segmentCount } from './preamble.ts'
import type { FrameDesc } from './preamble.ts'
import type { V2Limits } from './limits.ts'

const EMPTY = new Uint8Array(0)
/** Padding source; only ever read. */
const ZEROS = new Uint8Array(16)
const EPILOGUE_COMPLETE = new Uint8Array(EPILOGUE_SECURE_LEN)
EPILOGUE_COMPLETE[0] = LateStatus.COMPLETE
const HEAD_PLAIN_LEN = PREAMBLE_LEN + INLINE_LEN

/** Bytes of segment 0's remainder block (op 2) on the wire, tag included; 0 when it fits inline. */
function remainderLen (len0: number): number {
  return len0 > INLINE_LEN ? pad16(len0 - INLINE_LEN) + GCM_TAG_LEN : 0
}

/** Plaintext bytes of op 3 (padded segments 1..3 and the epilogue block). */
function tailPlainLen (len1: number, len2: number, len3: number): number {
  return pad16(len1) + pad16(len2) + pad16(len3) + EPILOGUE_SECURE_LEN
}

/** Bytes a secure-mode frame takes on the wire. */
export function secureFrameLen (len0: number, numSegments: number, len1: number, len2: number, len3: number): number {
  return PREAMBLE_SECURE_LEN + remainderLen(len0) + (numSegments > 1 ? tailPlainLen(len1, len2, len3) + GCM_TAG_LEN : 0)
}

function pushPadded (parts: Uint8Array[], s: Uint8Array): void {
  if (s.length === 0) return
  parts.push(s)
  const pad = pad16(s.length) - s.length
  if (pad > 0) parts.push(ZEROS.subarray(0, pad))
}

/**
 * Encrypt one frame with `cipher` (our tx direction; 1 to 3 nonces are used). Returns the wire
 * bytes as one buffer up to COPY_MAX, else as a list of pieces for a gathered write.
 */
export function encodeFrameSecure (cipher: GcmCipher, tag: number, segments: readonly Uint8Array[], lateStatus: number = LateStatus.COMPLETE): Uint8Array[] {
  const s0 = segments[0] ?? EMPTY
  const s1 = segments[1] ?? EMPTY
  const s2 = segments[2] ?? EMPTY
  const s3 = segments[3] ?? EMPTY
  const n = segmentCount(s1.length, s2.length, s3.length)
  const head = new Uint8Array(HEAD_PLAIN_LEN)
  encodePreambleInto(head, 0, tag, n, s0.length, s1.length, s2.length, s3.length)
  const inline = Math.min(s0.length, INLINE_LEN)
  head.set(inline === s0.length ? s0 : view(s0, 0, inline), PREAMBLE_LEN)
  const pieces = cipher.seal([head])
  if (s0.length > INLINE_LEN) {
    const parts: Uint8Array[] = []
    pushPadded(parts, view(s0, INLINE_LEN, s0.length))
    for (const p of cipher.seal(parts)) pieces.push(p)
  }
  if (n > 1) {
    const parts: Uint8Array[] = []
    pushPadded(parts, s1)
    pushPadded(parts, s2)
    pushPadded(parts, s3)
    let epilogue = EPILOGUE_COMPLETE
    if (lateStatus !== LateStatus.COMPLETE) {
      epilogue = new Uint8Array(EPILOGUE_SECURE_LEN)
      epilogue[0] = lateStatus
    }
    parts.push(epilogue)
    for (const p of cipher.seal(parts)) pieces.push(p)
  }
  const total = secureFrameLen(s0.length, n, s1.length, s2.length, s3.length)
  if (total > COPY_MAX) return pieces
  const out = new Uint8Array(total)
  let at = 0
  for (const p of pieces) { out.set(p, at); at += p.length }
  return [out]
}

function decryptFailed (offset: number): never {
  throw new V2Error(V2ErrorCode.DECRYPT_FAILED, 'secure frame failed authentication', offset)
}

/** Reads secure-mode frames with the peer's direction of the connection's key (our rx). */
export class SecureFrameReader implements FrameReader {
  private readonly limits: V2Limits
  private readonly cipher: GcmCipher
  private desc: FrameDesc | undefined
  /** The decrypted first block (preamble + inline bytes) of the frame being read. */
  private head: Uint8Array = EMPTY
  private wireLen = 0

  constructor (limits: V2Limits, cipher: GcmCipher) {
    this.limits = limits
    this.cipher = cipher
  }

  get midFrame (): boolean {
    return this.desc !== undefined
  }

  read (q: ByteQueue): Frame | undefined {
    let d = this.desc
    if (d === undefined) {
      if (q.length < PREAMBLE_SECURE_LEN) return undefined
      const offset = q.consumed
      // Decrypted once, as soon as the block is here: this uses the frame's first nonce.
      const first = q.peek(PREAMBLE_SECURE_LEN)
      const pt = this.cipher.open(view(first, 0, HEAD_PLAIN_LEN), view(first, HEAD_PLAIN_LEN, PREAMBLE_SECURE_LEN))
      if (pt === undefined) decryptFailed(offset)
      d = decodePreamble(pt, 0, this.limits, offset)
      this.desc = d
      this.head = pt
      this.wireLen = secureFrameLen(d.len0, d.numSegments, d.len1, d.len2, d.len3)
    }
    if (q.length < this.wireLen) return undefined
    this.desc = undefined
    const head = this.head
    this.head = EMPTY
    const offset = q.consumed
    const raw = q.take(this.wireLen)
    let at = PREAMBLE_SECURE_LEN
    let s0: Uint8Array
    if (d.len0 <= INLINE_LEN) {
      s0 = view(head, PREAMBLE_LEN, PREAMBLE_LEN + d.len0)
    } else {
      const ctLen = pad16(d.len0 - INLINE_LEN)
      const rest = this.cipher.open(view(raw, at, at + ctLen), view(raw, at + ctLen, at + ctLen + GCM_TAG_LEN))
      if (rest === undefined) decryptFailed(offset + at)
      s0 = new Uint8Array(d.len0)
      s0.set(view(head, PREAMBLE_LEN, HEAD_PLAIN_LEN), 0)
      s0.set(view(rest, 0, d.len0 - INLINE_LEN), INLINE_LEN)
      at += ctLen + GCM_TAG_LEN
    }
    if (d.numSegments === 1) {
      return { tag: d.tag, numSegments: 1, segments: [s0, EMPTY, EMPTY, EMPTY], aligns: d.aligns, flags: d.flags, offset, raw }
    }
    const ptLen = tailPlainLen(d.len1, d.len2, d.len3)
    const tail = this.cipher.open(view(raw, at, at + ptLen), view(raw, at + ptLen, at + ptLen + GCM_TAG_LEN))
    if (tail === undefined) decryptFailed(offset + at)
    let p = 0
    const s1 = d.len1 > 0 ? view(tail, p, p + d.len1) : EMPTY
    p += pad16(d.len1)
    const s2 = d.len2 > 0 ? view(tail, p, p + d.len2) : EMPTY
    p += pad16(d.len2)
    const s3 = d.len3 > 0 ? view(tail, p, p + d.len3) : EMPTY
    p += pad16(d.len3)
    checkLateStatus(tail[p], offset + at + p)
    return { tag: d.tag, numSegments: d.numSegments, segments: [s0, s1, s2, s3], aligns: d.aligns, flags: d.flags, offset, raw }
  }
}
