// A FIFO on a power-of-two ring: push at the tail, shift from the head, both O(1) with no
// per-item allocation and no compaction copies (an array used as a queue needs slice() now and
// then, and shift() on a plain array is O(n)). out_q's per-priority lists and the session's
// sent-but-unacknowledged list are both this.

export class Ring<T> {
  private items: Array<T | undefined>
  private head = 0
  private mask: number
  length = 0

  constructor (capacity = 16) {
    let c = 16
    while (c < capacity) c *= 2
    this.items = new Array<T | undefined>(c).fill(undefined)
    this.mask = c - 1
  }

  push (x: T): void {
    if (this.length > this.mask) this.grow()
    this.items[(this.head + this.length) & this.mask] = x
    this.length++
  }

  /** Put items in front, keeping their order: [...xs, ...this]. */
  unshiftAll (xs: readonly T[]): void {
    while (this.length + xs.length > this.mask + 1) this.grow()
    for (let i = xs.length - 1; i >= 0; i--) {
      this.head = (this.head - 1) & this.mask
      this.items[this.head] = xs[i]
    }
    this.length += xs.length
  }

  peek (): T | undefined {
    return this.length === 0 ? undefined : this.items[this.head]
  }

  shift (): T | undefined {
    if (this.length === 0) return undefined
    const x = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) & this.mask
    if (--this.length === 0 && this.mask >= 1023) this.reset()
    return x
  }

  /** A drained burst gives its big array back (idle connections stay small). */
  private reset (): void {
    this.items = new Array<T | undefined>(16).fill(undefined)
    this.head = 0
    this.mask = 15
  }

  /** The i-th item from the head (0 <= i < length). */
  at (i: number): T {
    return this.items[(this.head + i) & this.mask] as T
  }

  /** Remove and return everything, oldest first. */
  drain (): T[] {
    const out = new Array<T>(this.length)
    for (let i = 0; i < this.length; i++) {
      const k = (this.head + i) & this.mask
      out[i] = this.items[k] as T
      this.items[k] = undefined
    }
    this.length = 0
    this.reset()
    return out
  }

  private grow (): void {
    const old = this.items
    const n = old.length
    const next = new Array<T | undefined>(n * 2).fill(undefined)
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & this.mask]
    this.items = next
    this.head = 0
    this.mask = n * 2 - 1
  }
}
