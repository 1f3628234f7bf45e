// out_q: outgoing messages by priority, FIFO within a priority; the writer always takes from the
// highest non-empty priority (ProtocolV1 _get_next_outgoing). A few distinct priorities exist,
// so a small sorted array of them plus one FIFO each keeps push/shift O(1) amortised.

export interface Sized {
  priority: number
  payloadLength: number
}

class Fifo<T> {
  items: T[] = []
  head = 0
  get length (): number { return this.items.length - this.head }
  push (x: T): void { this.items.push(x) }
  unshiftAll (xs: T[]): void {
    this.items = xs.concat(this.items.slice(this.head))
    this.head = 0
  }

  peek (): T | undefined { return this.items[this.head] }
  shift (): T | undefined {
    if (this.head >= this.items.length) return undefined
    const x = this.items[this.head]
    this.items[this.head] = undefined as unknown as T
    this.head++
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return x
  }

  drain (): T[] {
    const out = this.items.slice(this.head)
    this.items = []
    this.head = 0
    return out
  }
}

export class OutQueue<T extends Sized> {
  private readonly lists = new Map<number, Fifo<T>>()
  /** Priorities with a list, highest first. */
  private prios: number[] = []
  length = 0
  bytes = 0

  private list (priority: number): Fifo<T> {
    let l = this.lists.get(priority)
    if (l === undefined) {
      l = new Fifo<T>()
      this.lists.set(priority, l)
      this.prios.push(priority)
      this.prios.sort((a, b) => b - a)
    }
    return l
  }

  push (m: T, priority = m.priority): void {
    this.list(priority).push(m)
    this.length++
    this.bytes += m.payloadLength
  }

  /** Put messages back in front of a priority's list, in the order given (requeue after a fault). */
  unshiftAll (ms: T[], priority: number): void {
    if (ms.length === 0) return
    this.list(priority).unshiftAll(ms)
    this.length += ms.length
    for (const m of ms) this.bytes += m.payloadLength
  }

  /** Front of one priority's list without removing it. */
  peekAt (priority: number): T | undefined {
    return this.lists.get(priority)?.peek()
  }

  shiftAt (priority: number): T | undefined {
    const m = this.lists.get(priority)?.shift()
    if (m !== undefined) {
      this.length--
      this.bytes -= m.payloadLength
    }
    return m
  }

  shift (): T | undefined {
    for (const p of this.prios) {
      const l = this.lists.get(p)
      if (l !== undefined && l.length > 0) {
        const m = l.shift() as T
        this.length--
        this.bytes -= m.payloadLength
        return m
      }
    }
    return undefined
  }

  clear (): T[] {
    const out: T[] = []
    for (const p of this.prios) out.push(...(this.lists.get(p) as Fifo<T>).drain())
    this.lists.clear()
    this.prios = []
    this.length = 0
    this.bytes = 0
    return out
  }
}
