// A p-queue 9 `queueClass` with Ceph's dispatch order, so that
//   new PQueue<CephQueueClass, CephQueueAddOptions>({ concurrency: 1, queueClass: CephQueueClass })
// runs tasks like Ceph's DispatchQueue: priority >= 64 (CEPH_MSG_PRIO_LOW) strict, below that weighted by
// cost; round robin across connections (`connId`) within a priority; FIFO within a connection.
// p-queue's own PriorityQueue is a sorted array (O(n) inserts, no fairness, low priorities starve).
// DispatchQueue does not use this: p-queue's per-task promise machinery costs far more than the queue
// (see dispatch-queue.ts); this adapter is for code that wants p-queue's API with Ceph's order.
//
// p-queue keeps its queue instance private and its clear() leaves add() promises pending forever. So
// an owner that must cancel work (discard a connection, shut down) does not remove tasks: it moves
// them to a flush lane with discardClass()/discardAll(). p-queue still dequeues and runs each flushed
// task (ahead of everything else), which settles its add() promise; the owner has marked the task
// cancelled through `out`, so running it does nothing.
import type { Queue, QueueAddOptions } from 'p-queue'
import { Priority } from '../../wire/constants.ts'
import { PrioritizedQueue, type PrioritizedQueueDump, type PrioritizedQueueOptions } from './prioritized-queue.ts'

/** p-queue's task wrapper (its RunFunction type is not exported from the package root). */
export type RunFunction = () => Promise<unknown>

export type CephQueueAddOptions = QueueAddOptions & {
  /** Round-robin class: the connection id (0 = local delivery and connection events). */
  readonly connId?: number
  /** Weighted part only (priority < 64): Ceph's Message::get_cost(), clamped to [minCost, maxTokens]. */
  readonly cost?: number
  /** Opaque owner data, handed back by discardClass()/discardAll(). */
  readonly tag?: unknown
}

export interface CephQueueClassOptions extends PrioritizedQueueOptions {
  /** Sees every instance p-queue creates (in its constructor and in clear()), since p-queue hides it. */
  onCreate?: (queue: CephQueueClass) => void
}

interface Entry {
  readonly run: RunFunction
  readonly id: string | undefined
  readonly priority: number
  readonly connId: number
  readonly cost: number
  readonly tag: unknown
}

function matches (entry: Entry, options: Readonly<Partial<CephQueueAddOptions>>): boolean {
  return (options.priority === undefined || entry.priority === options.priority) &&
    (options.connId === undefined || entry.connId === options.connId)
}

export class CephQueueClass implements Queue<RunFunction, CephQueueAddOptions> {
  /** A subclass bound to options, because p-queue constructs the queue class with no arguments. */
  static configure (options: CephQueueClassOptions): new () => CephQueueClass {
    const { onCreate, ...queueOptions } = options
    return class ConfiguredCephQueueClass extends CephQueueClass {
      constructor () {
        super(queueOptions)
        onCreate?.(this)
      }
    }
  }

  #pq: PrioritizedQueue<Entry>
  // Discarded tasks still owed one (no-op) run each; served before the priority queue.
  #flush: Array<Entry | undefined> = []
  #flushHead = 0

  constructor (options: PrioritizedQueueOptions = {}) {
    this.#pq = new PrioritizedQueue<Entry>(options)
  }

  /** Tasks waiting to run, including discarded ones still to be flushed (p-queue's view). */
  get size (): number {
    return this.#pq.length + this.#flush.length - this.#flushHead
  }

  /** Tasks waiting in priority order (excludes the flush lane). */
  get queued (): number {
    return this.#pq.length
  }

  enqueue (run: RunFunction, options?: Partial<CephQueueAddOptions>): void {
    const priority = options?.priority ?? 0
    const connId = options?.connId ?? 0
    const cost = options?.cost ?? 0
    const entry: Entry = { run, id: options?.id, priority, connId, cost, tag: options?.tag }
    if (priority >= Priority.LOW) {
      this.#pq.enqueueStrict(connId, priority, entry)
    } else {
      // p-queue allows negative priorities; the weighted part needs >= 0, and all of them rank below 64 anyway.
      this.#pq.enqueue(connId, priority >= 0 ? priority : 0, cost, entry)
    }
  }

  dequeue (): RunFunction | undefined {
    if (this.#flushHead < this.#flush.length) {
      const entry = this.#flush[this.#flushHead] as Entry
      this.#flush[this.#flushHead++] = undefined
      if (this.#flushHead === this.#flush.length) {
        this.#flush.length = 0
        this.#flushHead = 0
      }
      return entry.run
    }
    return this.#pq.dequeue()?.run
  }

  /** p-queue's sizeBy(): matches `priority` and/or `connId` (flushed tasks included, as in size). */
  filter (options: Readonly<Partial<CephQueueAddOptions>>): RunFunction[] {
    const runs: RunFunction[] = []
    for (let i = this.#flushHead; i < this.#flush.length; i++) {
      const entry = this.#flush[i] as Entry
      if (matches(entry, options)) runs.push(entry.run)
    }
    this.#pq.forEach((entry) => {
      if (matches(entry, options)) runs.push(entry.run)
    })
    return runs
  }

  /** p-queue's setPriority(): O(n); the task moves to the back of its connection at the new priority. */
  setPriority (id: string, priority: number): void {
    const found: Entry[] = []
    this.#pq.removeIf((entry) => entry.id === id, (entry) => found.push(entry))
    const entry = found[0]
    if (entry === undefined) {
      // A discarded task is still "queued" for p-queue; its priority no longer matters.
      if (this.#flushIndex(id) !== -1) return
      throw new ReferenceError(`No promise function with the id "${id}" exists in the queue.`)
    }
    this.enqueue(entry.run, { id, priority, connId: entry.connId, cost: entry.cost, tag: entry.tag })
  }

  /** p-queue calls this when a queued task's AbortSignal fires (it rejects that add() itself). O(n). */
  remove (id: string): void {
    if (this.#pq.removeIf((entry) => entry.id === id) > 0) return
    const i = this.#flushIndex(id)
    if (i !== -1) this.#flush.splice(i, 1)
  }

  /** Moves a connection's waiting tasks to the flush lane, handing each tag to `out`. Returns the count. */
  discardClass (connId: number, out?: (tag: unknown) => void): number {
    return this.#pq.removeByClass(connId, (entry) => this.#toFlush(entry, out))
  }

  /** Moves every waiting task to the flush lane (shutdown). Returns the count. */
  discardAll (out?: (tag: unknown) => void): number {
    return this.#pq.removeIf(() => true, (entry) => this.#toFlush(entry, out))
  }

  /** Waiting tasks of one connection (excludes the flush lane). */
  lengthOf (connId: number): number {
    return this.#pq.lengthOf(connId)
  }

  dump (): PrioritizedQueueDump & { flushing: number } {
    return { ...this.#pq.dump(), flushing: this.#flush.length - this.#flushHead }
  }

  #toFlush (entry: Entry, out: ((tag: unknown) => void) | undefined): void {
    this.#flush.push(entry)
    out?.(entry.tag)
  }

  #flushIndex (id: string): number {
    for (let i = this.#flushHead; i < this.#flush.length; i++) {
      if (this.#flush[i]?.id === id) return i
    }
    return -1
  }
}
