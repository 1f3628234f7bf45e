// The decoder's input: received chunks kept as they came, read from the front. Bytes are sliced
// out without copying when they lie inside one chunk, and copied once when they span chunks.
// (uint8arraylist does the same in general form; this is the small subset the decoder needs,
// without its per-call searches over the chunk list.)

import { crc32c, crc32cCopy } from './crc32c.ts'
import { view } from './view.ts'

const EMPTY = new Uint8Array(0)
const EMPTY_DV: DataView = new DataView(EMPTY.buffer)

/**
 * Room for a copy that copyTo() fills completely (callers check `length` first), so large ones
 * can skip the zero-fill of `new Uint8Array(n)`: an extra pass over a 64 KiB-1 MiB payload,
 * measured at 15-25% of decoding a 64 KiB message without its data crc.
 */
export function uninitialized (n: number): Uint8Array {
  if (n < SLAB_MAX_PIECE) return fromSlab(n)
  return n < 4096 ? new Uint8Array(n) : new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n)
}

// Small copies (short payloads copied out of socket chunks so they don't pin them) are carved
// from a shared 64 KiB slab, like Buffer's pool: one allocation per many messages, not one each.
const SLAB_SIZE = 64 * 1024
const SLAB_MAX_PIECE = 1024
/** Copies up to this long go word by word through DataViews (measured: faster than a view + set()). */
const SMALL_COPY = 128
let slab = new Uint8Array(SLAB_SIZE)
let slabBuf = slab.buffer
let slabDv = new DataView(slabBuf)
let slabPos = 0

function fromSlab (n: number): Uint8Array {
  if (slabPos + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE)
    slabBuf = slab.buffer
    slabDv = new DataView(slabBuf)
    slabPos = 0
  }
  const out = new Uint8Array(slabBuf, slabPos, n)
  // Keep pieces 8-byte aligned so DataView reads stay cheap.
  slabPos = (slabPos + n + 7) & ~7
  return out
}

export class ByteQueue {
  private chunks: Uint8Array[] = []
  private head = 0
  private headOff = 0
  /** Unread bytes. */
  length = 0
  /** Bytes consumed since the start of the stream (the offset of the next unread byte). */
  consumed = 0
  /** A DataView of the chunk small copies were last taken from (made once per chunk). */
  private dvChunk: Uint8Array = EMPTY
  private dv: DataView = EMPTY_DV

  private viewOf (c: Uint8Array): DataView {
    if (this.dvChunk !== c) {
      this.dvChunk = c
      this.dv = new DataView(c.buffer, c.byteOffset, c.length)
    }
    return this.dv
  }

  push (chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.length += chunk.length
  }

  /** Byte `i` positions after the read position (i < length). */
  byteAt (i: number): number {
    let idx = this.head
    let off = this.headOff + i
    while (off >= this.chunks[idx].length) {
      off -= this.chunks[idx].length
      idx++
    }
    return this.chunks[idx][off]
  }

  /** The head chunk and the read offset inside it, for parsing in place. */
  headChunk (): Uint8Array {
    return this.chunks[this.head] ?? EMPTY
  }

  /** A DataView of the head chunk (offsets as in the chunk), made once per chunk. */
  headView (): DataView {
    const c = this.chunks[this.head]
    return c === undefined ? EMPTY_DV : this.viewOf(c)
  }

  get headOffset (): number {
    return this.headOff
  }

  /** Bytes readable in place from the head chunk. */
  contiguousLength (): number {
    const c = this.chunks[this.head]
    return c === undefined ? 0 : c.length - this.headOff
  }

  /** The next n bytes without consuming them: a view when contiguous, else a copy. */
  peek (n: number): Uint8Array {
    if (n === 0) return EMPTY
    const c = this.chunks[this.head]
    if (c.length - this.headOff >= n) return view(c, this.headOff, this.headOff + n)
    const out = uninitialized(n)
    this.copyTo(out, n)
    return out
  }

  /** Consume n bytes and return them: a view when contiguous, else one copy. */
  take (n: number): Uint8Array {
    if (n === 0) return EMPTY
    const c = this.chunks[this.head]
    if (c.length - this.headOff >= n) {
      const v = view(c, this.headOff, this.headOff + n)
      this.skip(n)
      return v
    }
    const out = uninitialized(n)
    this.copyTo(out, n)
    this.skip(n)
    return out
  }

  /** The crc32c of what the last takeCopy(n, true) copied. */
  copyCrc = 0

  /**
   * Consume n bytes and return them as a fresh copy (no reference to the chunk is kept). With
   * `withCrc`, their crc32c is left in copyCrc (computed while copying, for short ones).
   */
  takeCopy (n: number, withCrc = false): Uint8Array {
    const c = this.chunks[this.head]
    if (n <= SMALL_COPY && c !== undefined && c.length - this.headOff >= n) {
      // Short and inside one chunk (small payloads, the common case): copied four bytes at a
      // time through DataViews straight into the slab (measured: half the time of a byte loop;
      // TypedArray.set would need a view of the source first).
      const out = fromSlab(n)
      const at = out.byteOffset
      const dst = slabDv
      const off = this.headOff
      const src = this.viewOf(c)
      if (withCrc) {
        this.copyCrc = crc32cCopy(src, off, dst, at, n)
      } else {
        let i = 0
        for (; i + 4 <= n; i += 4) dst.setInt32(at + i, src.getInt32(off + i))
        for (; i < n; i++) out[i] = c[off + i]
      }
      this.skip(n)
      return out
    }
    const out = uninitialized(n)
    this.copyTo(out, n)
    this.skip(n)
    if (withCrc) this.copyCrc = crc32c(out)
    return out
  }

  skip (n: number): void {
    this.length -= n
    this.consumed += n
    let off = this.headOff + n
    while (this.head < this.chunks.length && off >= this.chunks[this.head].length) {
      off -= this.chunks[this.head].length
      // Let go of a consumed chunk now: a large payload spans many, and holding them until the
      // array is compacted kept up to 64 (4 MiB) alive into the old generation.
      if (this.chunks[this.head] === this.dvChunk) {
        this.dvChunk = EMPTY
        this.dv = EMPTY_DV
      }
      this.chunks[this.head] = EMPTY
      this.head++
    }
    this.headOff = off
    if (this.head === this.chunks.length) {
      this.chunks = []
      this.head = 0
      this.headOff = 0
    } else if (this.head > 64) {
      this.chunks = this.chunks.slice(this.head)
      this.head = 0
    }
  }

  /** Consume n bytes (n <= length) into out at `at`: the chunks they came from can go at once. */
  takeInto (out: Uint8Array, at: number, n: number): void {
    this.copyTo(out, n, at)
    this.skip(n)
  }

  private copyTo (out: Uint8Array, n: number, at = 0): void {
    let idx = this.head
    let off = this.headOff
    let w = 0
    while (w < n) {
      const c = this.chunks[idx]
      const k = Math.min(c.length - off, n - w)
      out.set(off === 0 && k === c.length ? c : view(c, off, off + k), at + w)
      w += k
      idx++
      off = 0
    }
  }

  clear (): void {
    this.consumed += this.length
    this.dvChunk = EMPTY
    this.dv = EMPTY_DV
    this.chunks = []
    this.head = 0
    this.headOff = 0
    this.length = 0
  }
}
