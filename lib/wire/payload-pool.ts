// Buffers for large received payloads, handed back by Message.put() and reused for the next one.
//
// Without it every large message is a fresh allocation (Node reads TCP in chunks of up to 64 KiB,
// so a payload spanning chunks is copied into a buffer of its own), and a dead one is freed only
// when V8 next collects: V8 lets ~64 MiB of external memory pile up before it does. A dispatcher
// that puts what it is done with keeps the receive side within its throttles plus this pool.
//
// Buffers are kept by size, rounded up to a page, and looked up exactly: workloads repeat their
// object sizes, and a near-miss class would waste memory the throttles do not see. The pool holds
// at most `maxBytes` of free buffers; a release beyond that evicts the oldest free ones first.

/** Payloads shorter than this are not pooled (they are copies of a few chunks at most). */
export const POOL_MIN_BYTES = 64 * 1024
const PAGE = 4096

export interface PayloadPoolStats {
  /** Free buffers held now, and their bytes. */
  buffers: number
  bytes: number
  /** acquire() calls served from the pool, and those that allocated. */
  hits: number
  misses: number
  /** Buffers released, and those dropped (pool full, or too small to keep). */
  released: number
  dropped: number
}

export class PayloadPool {
  readonly maxBytes: number
  private readonly free = new Map<number, ArrayBuffer[]>()
  private held = 0
  private count = 0
  private hits = 0
  private misses = 0
  private released = 0
  private dropped = 0

  constructor (maxBytes: number) {
    this.maxBytes = maxBytes
  }

  /** Room for `n` bytes (contents undefined): a view of a pooled buffer, or a new one. */
  acquire (n: number): Uint8Array {
    const size = roundUp(n)
    const list = this.free.get(size)
    const ab = list?.pop()
    if (ab !== undefined) {
      this.hits++
      this.held -= size
      this.count--
      return new Uint8Array(ab, 0, n)
    }
    this.misses++
    // allocUnsafeSlow: no zero-fill (the decoder overwrites every byte) and not from Buffer's pool.
    return new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, n)
  }

  /**
   * Take back a buffer that acquire() handed out. The caller promises that nothing reads or
   * writes it any more: the next acquire() may give it to another message.
   */
  release (ab: ArrayBuffer): void {
    this.released++
    const size = ab.byteLength
    if (size < POOL_MIN_BYTES || size % PAGE !== 0 || size > this.maxBytes) {
      this.dropped++
      return
    }
    // Evict the oldest free buffers (Map keeps first-used sizes first) until this one fits.
    for (const [k, list] of this.free) {
      if (this.held + size <= this.maxBytes) break
      while (list.length > 0 && this.held + size > this.maxBytes) {
        list.shift()
        this.held -= k
        this.count--
        this.dropped++
      }
      if (list.length === 0) this.free.delete(k)
    }
    let list = this.free.get(size)
    if (list === undefined) {
      list = []
      this.free.set(size, list)
    }
    list.push(ab)
    this.held += size
    this.count++
  }

  stats (): PayloadPoolStats {
    return { buffers: this.count, bytes: this.held, hits: this.hits, misses: this.misses, released: this.released, dropped: this.dropped }
  }
}

function roundUp (n: number): number {
  return Math.ceil(n / PAGE) * PAGE
}

/** One pooled buffer lent to one message: released once, however often release() is called. */
export class PayloadLease {
  readonly buffer: ArrayBuffer
  private pool: PayloadPool | undefined

  constructor (pool: PayloadPool, buffer: ArrayBuffer) {
    this.pool = pool
    this.buffer = buffer
  }

  release (): void {
    const pool = this.pool
    if (pool === undefined) return
    this.pool = undefined
    pool.release(this.buffer)
  }
}
