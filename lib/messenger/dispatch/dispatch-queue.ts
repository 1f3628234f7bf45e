// Ceph's DispatchQueue (ceph:src/msg/DispatchQueue.cc): one consumer delivering received messages and
// connection events in Ceph's order, with a messenger-wide byte throttle.
//
// Order: connection events are strict priority 255, class 0, so they overtake queued messages;
// messages >= 64 are strict, < 64 weighted by cost; round robin across connections (PrioritizedQueue).
//
// Delivery is a synchronous pump over the PrioritizedQueue, started from a microtask: deliver never runs
// inside enqueue() (no re-entrancy into the reader), a burst enqueued in one tick is ordered as a whole,
// and a synchronous deliver costs no promise at all. A deliver that returns a promise (an async
// dispatcher: a database write, a call to a service) takes one of `concurrency` slots of a p-queue
// until it settles; the pump stops while every slot is taken. Concurrency 1 (the default) is Ceph's
// single dispatch thread: one delivery at a time, so each connection's messages are handled in order.
// Above 1, deliveries still start in Ceph's order but may finish out of it, even within a connection.
// After `maxBatch` deliveries in one go the pump yields with setImmediate so socket reads are not
// starved by a deep backlog. (A p-queue with CephQueueClass as its queue gives the same start order,
// but its per-task promise machinery measured ~4 µs per item shallow and 10-35 µs per item 200 000
// deep, against ~0.3 µs for this pump; so p-queue runs only what is asynchronous anyway.)
//
// Byte throttle ownership: the reader takes `bytes` from `throttle` before reading the payload (Ceph's
// dispatch_throttler). enqueue() takes ownership of those bytes in every case: they are put back after
// deliver returns or throws, when the message is discarded, or at once when enqueue() refuses it.
import PQueue from 'p-queue'
import { Priority } from '../../wire/constants.ts'
import { PrioritizedQueue, type PrioritizedQueueOptions } from './prioritized-queue.ts'
import { Throttle, type ThrottlePerf } from '../throttle.ts'

/** Ceph `ms_dispatch_throttle_bytes`. */
export const DEFAULT_DISPATCH_THROTTLE_BYTES = 100 * 1024 * 1024
/** A safety net only; the byte throttle is the real bound. */
export const DEFAULT_MAX_QUEUE_LENGTH = 1_000_000
/** Deliveries per turn before the pump yields to I/O. */
export const DEFAULT_MAX_BATCH = 1024
/** Ceph queues connection events in class 0 (the local-delivery class), not in the connection's class. */
export const EVENT_CLASS = 0
/** Header priority is a u16 on the wire. */
const MAX_PRIORITY = 0xffff

export type ConnectionEventKind = 'connect' | 'accept' | 'reset' | 'remoteReset' | 'refused'

export interface MessageItem<M = unknown> {
  kind: 'message'
  message: M
  priority: number
  connId: number
  /** Ceph Message::get_cost(); only used below priority 64. */
  cost: number
  /** Units taken from the dispatch throttle by the reader (front + middle + data). */
  bytes: number
}

export interface ConnectionEventItem<C = unknown> {
  kind: ConnectionEventKind
  connection: C
  connId: number
}

export type QueueItem<M = unknown, C = unknown> = MessageItem<M> | ConnectionEventItem<C>

export class DispatchQueueClosedError extends Error {
  override readonly name = 'DispatchQueueClosedError'
  readonly code = 'ERR_DISPATCH_QUEUE_CLOSED'

  constructor () {
    super('dispatch queue shut down')
  }
}

export interface DispatchQueueOptions<M = unknown, C = unknown> extends PrioritizedQueueOptions {
  deliver: (item: QueueItem<M, C>) => void | Promise<void>
  /** Errors thrown (or rejected) by deliver, and contract violations; counted either way. */
  onError?: (err: unknown, item: QueueItem<M, C>) => void
  /** Dispatch throttle capacity in bytes (0 = unlimited). Default 100 MiB. */
  throttleBytes?: number
  /** Undelivered items beyond which enqueue() refuses. Default 1 000 000. */
  maxQueueLength?: number
  /** Deliveries per turn before yielding to I/O. Default 1024. */
  maxBatch?: number
  /** Clock in ms for the latency counters. Default performance.now. */
  now?: () => number
  /** Asynchronous deliveries in flight at once (default 1, Ceph's single dispatch thread). */
  concurrency?: number
  /**
   * Stop waiting for an asynchronous delivery after this many ms (0 = never): its slot and
   * dispatch bytes are given back and a TimeoutError is reported through onError, so one hung
   * dispatcher cannot stall dispatch for good.
   */
  timeoutMs?: number
  /** Start delivering at once (default true); otherwise call start(). */
  autoStart?: boolean
  /**
   * Called for each message dropped undelivered (discardQueue, shutdown), after its dispatch bytes
   * are given back: whatever else the item holds (the reader's per-policy throttle units) is
   * the owner's to return.
   */
  onDiscard?: (item: QueueItem<M, C>) => void
}

export interface DispatchQueuePerf {
  /** Undelivered items (not counting the one being delivered). */
  length: number
  enqueued: number
  dispatched: number
  /** Dropped by discardQueue() or shutdown(). */
  discarded: number
  /** Refused by enqueue() (queue full or shut down). */
  dropped: number
  errors: number
  /** Asynchronous deliveries in flight now, and ever started. */
  asyncPending: number
  asyncStarted: number
  throttle: ThrottlePerf
  /** Time from enqueue() to the start of deliver. */
  dispatchLatencyAvgMs: number
  dispatchLatencyMaxMs: number
}

interface Job<M, C> {
  readonly item: QueueItem<M, C>
  readonly enqueuedAt: number
}

function isPromiseLike (value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function'
}

export class DispatchQueue<M = unknown, C = unknown> {
  /** The dispatch byte throttle: the reader takes from it, the queue gives back. */
  readonly throttle: Throttle
  readonly maxQueueLength: number
  readonly maxBatch: number
  readonly #deliver: (item: QueueItem<M, C>) => void | Promise<void>
  readonly #onDiscard: ((item: QueueItem<M, C>) => void) | undefined
  readonly #onError: ((err: unknown, item: QueueItem<M, C>) => void) | undefined
  readonly #now: () => number
  readonly #queue: PrioritizedQueue<Job<M, C>>
  readonly #async: PQueue
  readonly #concurrency: number
  /** Every async slot is taken: the pump waits for one to free. */
  #blocked = false
  #inflight = 0
  #asyncStarted = 0
  #paused: boolean
  #closed = false
  // A pump is queued (microtask or setImmediate) / the pump loop or an async deliver is in progress.
  #scheduled = false
  #delivering = false
  #idleWaiters: Array<() => void> = []
  #shutdown: Promise<void> | undefined = undefined
  #enqueued = 0
  #dispatched = 0
  #discarded = 0
  #dropped = 0
  #errors = 0
  #latencySum = 0
  #latencyCount = 0
  #latencyMax = 0
  // Bound once: handed to the scheduler and to discard per call, not per item.
  readonly #pump = (): void => {
    this.#scheduled = false
    if (!this.#delivering) this.#loop()
  }

  readonly #discard = (job: Job<M, C>): void => {
    this.#discarded++
    this.#release(job.item)
    if (this.#onDiscard !== undefined && job.item.kind === 'message') {
      try {
        this.#onDiscard(job.item)
      } catch (err) {
        this.#fail(err, job.item)
      }
    }
  }

  constructor (options: DispatchQueueOptions<M, C>) {
    this.#deliver = options.deliver
    this.#onDiscard = options.onDiscard
    this.#onError = options.onError
    this.#now = options.now ?? (() => performance.now())
    this.maxQueueLength = options.maxQueueLength ?? DEFAULT_MAX_QUEUE_LENGTH
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH
    if (!(this.maxBatch >= 1)) throw new RangeError(`maxBatch must be >= 1, got ${this.maxBatch}`)
    this.throttle = new Throttle('dispatch_throttle_bytes', options.throttleBytes ?? DEFAULT_DISPATCH_THROTTLE_BYTES)
    this.#queue = new PrioritizedQueue<Job<M, C>>(options)
    this.#concurrency = options.concurrency ?? 1
    if (!(Number.isInteger(this.#concurrency) && this.#concurrency >= 1)) throw new RangeError(`concurrency must be an integer >= 1, got ${this.#concurrency}`)
    const timeout = options.timeoutMs ?? 0
    this.#async = new PQueue({ concurrency: this.#concurrency, ...(timeout > 0 ? { timeout } : {}) })
    this.#paused = options.autoStart === false
  }

  /** Undelivered items (excludes the one being delivered). */
  get length (): number {
    return this.#queue.length
  }

  get closed (): boolean {
    return this.#closed
  }

  get paused (): boolean {
    return this.#paused
  }

  /** Queues an item; false if refused (full or shut down), and then its throttle bytes are already given back. */
  enqueue (item: QueueItem<M, C>): boolean {
    if (item.kind === 'message' && !(Number.isInteger(item.priority) && item.priority >= 0 && item.priority <= MAX_PRIORITY)) {
      this.#release(item)
      throw new RangeError(`message priority must be an integer in [0, ${MAX_PRIORITY}], got ${item.priority}`)
    }
    if (this.#closed || this.#queue.length >= this.maxQueueLength) {
      this.#dropped++
      this.#release(item)
      return false
    }
    const job: Job<M, C> = { item, enqueuedAt: this.#now() }
    if (item.kind !== 'message') this.#queue.enqueueStrict(EVENT_CLASS, Priority.HIGHEST, job)
    else if (item.priority >= Priority.LOW) this.#queue.enqueueStrict(item.connId, item.priority, job)
    else this.#queue.enqueue(item.connId, item.priority, item.cost, job)
    this.#enqueued++
    this.#kick(false)
    return true
  }

  /** Ceph discard_queue: drops a connection's undelivered messages (not its events, which are class 0). */
  discardQueue (connId: number): number {
    const n = this.#queue.removeByClass(connId, this.#discard)
    this.#checkIdle()
    return n
  }

  /** Undelivered items of one connection. */
  lengthOf (connId: number): number {
    return this.#queue.lengthOf(connId)
  }

  start (): void {
    if (this.#closed || !this.#paused) return
    this.#paused = false
    this.#kick(false)
  }

  /** Stops after the delivery in progress; queued items wait for start(). */
  pause (): void {
    if (!this.#closed) this.#paused = true
  }

  /** Resolves when nothing is queued or being delivered (so never while paused with work queued). */
  drain (): Promise<void> {
    if (this.#isIdle()) return Promise.resolve()
    return new Promise((resolve) => { this.#idleWaiters.push(resolve) })
  }

  /**
   * Drops everything undelivered (giving its bytes back), rejects throttle waiters with
   * DispatchQueueClosedError, and refuses further items. Resolves once the delivery in progress, if any,
   * has returned; never rejects; idempotent.
   */
  shutdown (): Promise<void> {
    if (this.#shutdown !== undefined) return this.#shutdown
    this.#closed = true
    this.#paused = false
    // Waiters first: the bytes released by the discard must not admit a reader into a closed queue.
    this.throttle.abortWaiters(new DispatchQueueClosedError())
    this.#queue.removeIf(() => true, this.#discard)
    this.#shutdown = this.drain()
    this.#checkIdle()
    return this.#shutdown
  }

  perfDump (): DispatchQueuePerf {
    return {
      length: this.#queue.length,
      enqueued: this.#enqueued,
      dispatched: this.#dispatched,
      discarded: this.#discarded,
      dropped: this.#dropped,
      errors: this.#errors,
      asyncPending: this.#inflight,
      asyncStarted: this.#asyncStarted,
      throttle: this.throttle.perfDump(),
      dispatchLatencyAvgMs: this.#latencyCount === 0 ? 0 : this.#latencySum / this.#latencyCount,
      dispatchLatencyMaxMs: this.#latencyMax
    }
  }

  #kick (yieldToIo: boolean): void {
    if (this.#scheduled || this.#delivering || this.#blocked || this.#paused || this.#queue.length === 0) return
    this.#scheduled = true
    if (yieldToIo) setImmediate(this.#pump)
    else queueMicrotask(this.#pump)
  }

  // Delivers until empty, paused, an async deliver is pending, or the batch is used up. Never throws.
  #loop (): void {
    this.#delivering = true
    for (let n = 0; n < this.maxBatch && !this.#paused; n++) {
      const job = this.#queue.dequeue()
      if (job === undefined) break
      const latency = this.#now() - job.enqueuedAt
      this.#latencySum += latency
      this.#latencyCount++
      if (latency > this.#latencyMax) this.#latencyMax = latency
      const item = job.item
      let result: unknown
      try {
        result = this.#deliver(item)
      } catch (err) {
        this.#fail(err, item)
        this.#done(item)
        continue
      }
      if (isPromiseLike(result)) {
        this.#asyncStarted++
        this.#inflight++
        // Started already: the p-queue holds a slot until it settles (or times out). Slots are
        // only asked for when one is free, so add() runs it at once.
        this.#async.add(() => result).then(
          () => { this.#afterAsync(item) },
          (err: unknown) => {
            this.#fail(err, item)
            this.#afterAsync(item)
          })
        if (this.#inflight >= this.#concurrency) {
          this.#blocked = true
          this.#delivering = false
          return
        }
        continue
      }
      this.#done(item)
    }
    this.#delivering = false
    // Still work left and not paused: the batch ran out, so let I/O in before continuing.
    this.#kick(true)
    this.#checkIdle()
  }

  #afterAsync (item: QueueItem<M, C>): void {
    this.#done(item)
    this.#inflight--
    this.#blocked = this.#inflight >= this.#concurrency
    if (this.#delivering || this.#blocked || this.#paused || this.#queue.length === 0) this.#checkIdle()
    else this.#loop()
  }

  #done (item: QueueItem<M, C>): void {
    this.#dispatched++
    this.#release(item)
  }

  #isIdle (): boolean {
    return !this.#delivering && this.#queue.length === 0 && this.#inflight === 0
  }

  #checkIdle (): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  #fail (err: unknown, item: QueueItem<M, C>): void {
    this.#errors++
    if (this.#onError === undefined) return
    try {
      this.#onError(err, item)
    } catch (handlerErr) {
      // A throwing error handler is a bug: surface it as an uncaught exception rather than hide it or
      // let it escape the pump (or become an unhandled rejection).
      queueMicrotask(() => { throw handlerErr })
    }
  }

  #release (item: QueueItem<M, C>): void {
    if (item.kind !== 'message' || item.bytes === 0) return
    try {
      this.throttle.put(item.bytes)
    } catch (err) {
      // The reader did not take these bytes: a contract bug, reported rather than thrown out of the pump.
      this.#fail(err, item)
    }
  }
}
