// Ceph's Throttle (ceph:src/common/Throttle.cc): a counting budget with FIFO waiters.
//
// No timers: waiters are woken from put() (and from an abort), so a test drives it synchronously.
// Admission follows Ceph's `_should_wait` exactly:
//   - a request n <= max waits while current + n > max;
//   - a request n >= max (oversize) waits only while current > max, so it is admitted once the budget is
//     no longer overdrawn and can never deadlock (it cannot fit "under" max by definition);
//   - nobody overtakes a waiter: tryGet fails and get queues while anyone is waiting.
// max 0 means unlimited: nothing ever waits, but current is still counted (for perf dumps).

export interface ThrottlePerf {
  name: string
  /** Successful acquisitions (tryGet or get) and the units they took. */
  get: number
  getSum: number
  /** tryGet calls refused. */
  tryGetFail: number
  put: number
  putSum: number
  /** get calls that had to queue. */
  waits: number
  /** Waiters currently queued. */
  waiting: number
  current: number
  max: number
}

interface Waiter {
  n: number
  resolve: () => void
  reject: (err: unknown) => void
  cancelled: boolean
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

function checkUnits (n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`throttle units must be a non-negative integer, got ${n}`)
}

export class Throttle {
  readonly name: string
  #max: number
  #current = 0
  // FIFO of waiters (array + head index); aborted ones stay as tombstones until they reach the head.
  #waiters: Array<Waiter | undefined> = []
  #head = 0
  #waiting = 0
  #get = 0
  #getSum = 0
  #tryGetFail = 0
  #put = 0
  #putSum = 0
  #waits = 0

  constructor (name: string, max = 0) {
    checkUnits(max)
    this.name = name
    this.#max = max
  }

  get current (): number {
    return this.#current
  }

  get max (): number {
    return this.#max
  }

  /** Number of get() calls still queued. */
  get waiting (): number {
    return this.#waiting
  }

  /** Non-blocking get (Ceph get_or_fail): takes n and returns true, or takes nothing and returns false. */
  tryGet (n = 1): boolean {
    checkUnits(n)
    if (this.#waiting > 0 || this.#shouldWait(n)) {
      this.#tryGetFail++
      return false
    }
    this.#take(n)
    return true
  }

  /**
   * Takes n, waiting in FIFO order behind earlier waiters when the budget is short. The promise rejects
   * only if the wait is aborted (signal, or abortWaiters()); then nothing was taken.
   */
  get (n = 1, signal?: AbortSignal): Promise<void> {
    try {
      checkUnits(n)
      signal?.throwIfAborted()
    } catch (err) {
      return Promise.reject(err)
    }
    if (this.#waiting === 0 && !this.#shouldWait(n)) {
      this.#take(n)
      return Promise.resolve()
    }
    this.#waits++
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { n, resolve, reject, cancelled: false, signal, onAbort: undefined }
      if (signal !== undefined) {
        w.onAbort = () => {
          this.#cancel(w)
          reject(signal.reason)
          // An aborted head may have been the only thing holding later (smaller) waiters back.
          this.#wake()
        }
        signal.addEventListener('abort', w.onAbort, { once: true })
      }
      this.#waiters.push(w)
      this.#waiting++
    })
  }

  /** Gives n back and admits as many queued waiters, in order, as now fit. */
  put (n = 1): void {
    checkUnits(n)
    if (n > this.#current) throw new RangeError(`throttle ${this.name}: put ${n} exceeds current ${this.#current}`)
    this.#current -= n
    this.#put++
    this.#putSum += n
    if (this.#waiters.length > 0) this.#wake()
  }

  /** Rejects every queued get() with err (shutdown). Returns how many were rejected. */
  abortWaiters (err: unknown): number {
    const waiters = this.#waiters
    const head = this.#head
    this.#waiters = []
    this.#head = 0
    let n = 0
    for (let i = head; i < waiters.length; i++) {
      const w = waiters[i]
      if (w === undefined || w.cancelled) continue
      this.#cancel(w)
      w.reject(err)
      n++
    }
    return n
  }

  perfDump (): ThrottlePerf {
    return {
      name: this.name,
      get: this.#get,
      getSum: this.#getSum,
      tryGetFail: this.#tryGetFail,
      put: this.#put,
      putSum: this.#putSum,
      waits: this.#waits,
      waiting: this.#waiting,
      current: this.#current,
      max: this.#max
    }
  }

  #shouldWait (n: number): boolean {
    const max = this.#max
    const cur = this.#current
    return max !== 0 && ((n <= max && cur + n > max) || (n >= max && cur > max))
  }

  #take (n: number): void {
    this.#current += n
    this.#get++
    this.#getSum += n
  }

  #cancel (w: Waiter): void {
    w.cancelled = true
    this.#waiting--
    if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort)
  }

  #wake (): void {
    const waiters = this.#waiters
    while (this.#head < waiters.length) {
      const w = waiters[this.#head]
      if (w !== undefined && !w.cancelled) {
        if (this.#shouldWait(w.n)) break
        this.#cancel(w)
        this.#take(w.n)
        w.resolve()
      }
      waiters[this.#head] = undefined
      this.#head++
    }
    if (this.#head === waiters.length) {
      waiters.length = 0
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 > waiters.length) {
      waiters.splice(0, this.#head)
      this.#head = 0
    }
  }
}
