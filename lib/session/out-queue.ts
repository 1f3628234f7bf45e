// out_q: outgoing messages by priority, FIFO within a priority; the writer always takes from the
// highest non-empty priority (ProtocolV1 _get_next_outgoing). A few distinct priorities exist,
// so a small array of them, highest first, each with its own ring, keeps push/shift O(1); the
// last list used is remembered, since a burst of sends usually shares one priority.
import { Ring } from './ring.ts'

export interface Sized {
  priority: number
  payloadLength: number
}

export class OutQueue<T extends Sized> {
  /** Priorities with a list, highest first; lists[i] holds priority prios[i]. */
  private prios: number[] = []
  private lists: Array<Ring<T>> = []
  private lastPrio = -1
  private lastList: Ring<T> | undefined
  length = 0
  bytes = 0

  private list (priority: number): Ring<T> {
    if (priority === this.lastPrio && this.lastList !== undefined) return this.lastList
    let i = this.prios.indexOf(priority)
    if (i < 0) {
      i = 0
      while (i < this.prios.length && this.prios[i] > priority) i++
      this.prios.splice(i, 0, priority)
      this.lists.splice(i, 0, new Ring<T>())
    }
    this.lastPrio = priority
    this.lastList = this.lists[i]
    return this.lists[i]
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
    const i = this.prios.indexOf(priority)
    return i < 0 ? undefined : this.lists[i].peek()
  }

  shiftAt (priority: number): T | undefined {
    const i = this.prios.indexOf(priority)
    const m = i < 0 ? undefined : this.lists[i].shift()
    if (m !== undefined) {
      this.length--
      this.bytes -= m.payloadLength
    }
    return m
  }

  shift (): T | undefined {
    if (this.length === 0) return undefined
    const lists = this.lists
    for (let i = 0; i < lists.length; i++) {
      const l = lists[i]
      if (l.length > 0) {
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
    for (const l of this.lists) for (const m of l.drain()) out.push(m)
    this.prios = []
    this.lists = []
    this.lastPrio = -1
    this.lastList = undefined
    this.length = 0
    this.bytes = 0
    return out
  }
}
