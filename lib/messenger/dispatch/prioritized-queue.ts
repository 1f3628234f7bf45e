// Ceph's PrioritizedQueue (ceph:src/common/PrioritizedQueue.h), the DispatchQueue's mqueue.
//
// Two parts. The strict part is served first, highest priority first. The weighted part is served only
// when the strict part is empty, by token buckets so that low priorities do not starve: each dequeue
// hands every non-empty priority `priority * cost / totalPriority + 1` tokens, and the lowest priority
// whose front item costs less than its tokens wins; if none can pay, the highest priority is served.
// Inside one priority the classes (connection ids) take turns (round robin), FIFO within a class.
//
// Every operation on the hot path is O(1) amortised plus O(P) in the number of distinct non-empty
// priorities (a handful in practice): no sorted-array inserts per item.

/** Ceph `ms_pq_min_cost`: smaller costs are raised to this. */
export const DEFAULT_MIN_COST = 65536
/** Ceph `ms_pq_max_tokens_per_priority`: bucket size, and the cap on a single item's cost. */
export const DEFAULT_MAX_TOKENS = 16 * 1024 * 1024

// Empty subqueues are kept for reuse (the common case is a queue that drains to zero between bursts);
// past this many distinct priorities they are dropped when they empty, so odd priorities cannot leak.
const MAX_CACHED_SUBQUEUES = 1024
// A class FIFO compacts its consumed prefix once it is this long and more than half the array.
const COMPACT_AT = 1024

export interface PrioritizedQueueOptions {
  /** Costs below this are raised to it (Ceph `ms_pq_min_cost`). Default 65536. */
  minCost?: number
  /** Token bucket size per weighted priority (Ceph `ms_pq_max_tokens_per_priority`). Default 16 MiB. */
  maxTokensPerPriority?: number
}

export interface SubQueueDump {
  priority: number
  size: number
  classes: number
  /** Weighted part only. */
  tokens?: number
}

export interface PrioritizedQueueDump {
  length: number
  totalPriority: number
  strict: SubQueueDump[]
  weighted: SubQueueDump[]
}

/** The FIFO of one class inside one priority; also a node of that priority's round-robin ring. */
class ClassQueue<T> {
  readonly key: number
  items: Array<T | undefined> = []
  costs: number[] = []
  head = 0
  prev: ClassQueue<T> = this
  next: ClassQueue<T> = this

  constructor (key: number) {
    this.key = key
  }

  get size (): number {
    return this.items.length - this.head
  }

  push (item: T, cost: number): void {
    this.items.push(item)
    this.costs.push(cost)
  }

  frontCost (): number {
    return this.costs[this.head]
  }

  shift (): T {
    const item = this.items[this.head] as T
    // Clear the slot so a long-lived FIFO does not pin delivered items until compaction.
    this.items[this.head] = undefined
    this.head++
    if (this.head === this.items.length) {
      this.items.length = 0
      this.costs.length = 0
      this.head = 0
    } else if (this.head >= COMPACT_AT && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head)
      this.costs.splice(0, this.head)
      this.head = 0
    }
    return item
  }

  /** Removes the items `predicate` selects, handing each to `out` in FIFO order. O(size). */
  removeIf (predicate: (item: T) => boolean, out?: (item: T) => void): number {
    const items: Array<T | undefined> = []
    const costs: number[] = []
    let removed = 0
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T
      if (predicate(item)) {
        removed++
        out?.(item)
      } else {
        items.push(item)
        costs.push(this.costs[i])
      }
    }
    if (removed > 0) {
      this.items = items
      this.costs = costs
      this.head = 0
    }
    return removed
  }

  * [Symbol.iterator] (): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T
  }
}

/** All items of one priority: a ring of class FIFOs and a cursor that advances on every pop. */
class SubQueue<T> {
  readonly priority: number
  readonly classes = new Map<number, ClassQueue<T>>()
  cur: ClassQueue<T> | undefined = undefined
  size = 0
  tokens = 0

  constructor (priority: number) {
    this.priority = priority
  }

  enqueue (cls: number, cost: number, item: T): void {
    let cq = this.classes.get(cls)
    if (cq === undefined) {
      cq = new ClassQueue<T>(cls)
      this.classes.set(cls, cq)
      const cur = this.cur
      if (cur === undefined) {
        this.cur = cq
      } else {
        // Join the ring just before the cursor: a newcomer waits for everyone already queued to get a turn.
        cq.prev = cur.prev
        cq.next = cur
        cur.prev.next = cq
        cur.prev = cq
      }
    }
    cq.push(item, cost)
    this.size++
  }

  frontCost (): number {
    return (this.cur as ClassQueue<T>).frontCost()
  }

  pop (): T {
    const cq = this.cur as ClassQueue<T>
    const item = cq.shift()
    this.size--
    if (cq.size === 0) this.#unlink(cq)
    else this.cur = cq.next
    return item
  }

  removeClass (cls: number, out?: (item: T) => void): number {
    const cq = this.classes.get(cls)
    if (cq === undefined) return 0
    const n = cq.size
    if (out !== undefined) for (const item of cq) out(item)
    this.size -= n
    this.#unlink(cq)
    return n
  }

  removeIf (predicate: (item: T) => boolean, out?: (item: T) => void): number {
    let removed = 0
    for (const cq of [...this.classes.values()]) {
      removed += cq.removeIf(predicate, out)
      if (cq.size === 0) this.#unlink(cq)
    }
    this.size -= removed
    return removed
  }

  /** Items in the order they would be popped if nothing else arrived (cursor first, then round robin). */
  * [Symbol.iterator] (): IterableIterator<[number, T]> {
    const start = this.cur
    if (start === undefined) return
    let cq = start
    do {
      for (const item of cq) yield [cq.key, item]
      cq = cq.next
    } while (cq !== start)
  }

  #unlink (cq: ClassQueue<T>): void {
    this.classes.delete(cq.key)
    if (this.cur === cq) this.cur = cq.next === cq ? undefined : cq.next
    cq.prev.next = cq.next
    cq.next.prev = cq.prev
    cq.prev = cq
    cq.next = cq
  }
}

/** Inserts `sq` into a list kept sorted by ascending priority (binary search; P is small). */
function insertSorted<T> (list: Array<SubQueue<T>>, sq: SubQueue<T>): void {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (list[mid].priority < sq.priority) lo = mid + 1
    else hi = mid
  }
  if (lo === list.length) list.push(sq)
  else list.splice(lo, 0, sq)
}

function removeSorted<T> (list: Array<SubQueue<T>>, sq: SubQueue<T>): void {
  // The highest priority is the one that empties most often (strict dequeue): O(1) for it.
  if (list[list.length - 1] === sq) {
    list.pop()
    return
  }
  const i = list.indexOf(sq)
  if (i !== -1) list.splice(i, 1)
}

export class PrioritizedQueue<T> {
  readonly minCost: number
  readonly maxTokens: number
  #strict = new Map<number, SubQueue<T>>()
  #weighted = new Map<number, SubQueue<T>>()
  // Non-empty subqueues, ascending priority. The strict list is served from its end.
  #strictActive: Array<SubQueue<T>> = []
  #weightedActive: Array<SubQueue<T>> = []
  #totalPriority = 0
  #length = 0

  constructor (options: PrioritizedQueueOptions = {}) {
    const minCost = options.minCost ?? DEFAULT_MIN_COST
    const maxTokens = options.maxTokensPerPriority ?? DEFAULT_MAX_TOKENS
    if (!Number.isSafeInteger(minCost) || minCost < 0) throw new RangeError(`minCost must be a non-negative integer, got ${minCost}`)
    if (!Number.isSafeInteger(maxTokens) || maxTokens < 1) throw new RangeError(`maxTokensPerPriority must be a positive integer, got ${maxTokens}`)
    this.minCost = minCost
    this.maxTokens = maxTokens
  }

  get length (): number {
    return this.#length
  }

  /** Strict priority: served before every weighted item, highest priority first. */
  enqueueStrict (cls: number, priority: number, item: T): void {
    if (Number.isNaN(priority)) throw new RangeError('strict priority must be a number, got NaN')
    const sq = this.#subQueue(this.#strict, priority)
    if (sq.size === 0) insertSorted(this.#strictActive, sq)
    sq.enqueue(cls, 0, item)
    this.#length++
  }

  /** Weighted by token buckets; `cost` is clamped into [minCost, maxTokens] as Ceph does. */
  enqueue (cls: number, priority: number, cost: number, item: T): void {
    if (!Number.isFinite(priority) || priority < 0) throw new RangeError(`weighted priority must be a finite number >= 0, got ${priority}`)
    let c = Number.isFinite(cost) ? Math.floor(cost) : this.minCost
    if (c < this.minCost) c = this.minCost
    if (c > this.maxTokens) c = this.maxTokens
    const sq = this.#subQueue(this.#weighted, priority)
    if (sq.size === 0) {
      // Ceph creates the subqueue here with an empty bucket and adds it to total_priority.
      insertSorted(this.#weightedActive, sq)
      this.#totalPriority += priority
      sq.tokens = 0
    }
    sq.enqueue(cls, c, item)
    this.#length++
  }

  dequeue (): T | undefined {
    if (this.#length === 0) return undefined
    this.#length--
    const strict = this.#strictActive
    if (strict.length > 0) {
      const sq = strict[strict.length - 1]
      const item = sq.pop()
      if (sq.size === 0) this.#retire(this.#strict, strict, sq)
      return item
    }
    const weighted = this.#weightedActive
    // Lowest priority that can pay for its front item wins; nobody can pay → plain highest priority.
    let chosen: SubQueue<T> | undefined
    for (let i = 0; i < weighted.length; i++) {
      const sq = weighted[i]
      if (sq.frontCost() < sq.tokens) {
        chosen = sq
        sq.tokens -= sq.frontCost()
        break
      }
    }
    if (chosen === undefined) chosen = weighted[weighted.length - 1]
    const cost = chosen.frontCost()
    const item = chosen.pop()
    if (chosen.size === 0) this.#retireWeighted(chosen)
    this.#distributeTokens(cost)
    return item
  }

  /** Ceph's remove_by_class: drops every item of `cls`, handing each to `out` (strict first, highest priority first, FIFO within). */
  removeByClass (cls: number, out?: (item: T) => void): number {
    let removed = 0
    const strict = this.#strictActive
    for (let i = strict.length - 1; i >= 0; i--) {
      const sq = strict[i]
      removed += sq.removeClass(cls, out)
      if (sq.size === 0) this.#retire(this.#strict, strict, sq)
    }
    const weighted = this.#weightedActive
    for (let i = weighted.length - 1; i >= 0; i--) {
      const sq = weighted[i]
      removed += sq.removeClass(cls, out)
      if (sq.size === 0) this.#retireWeighted(sq)
    }
    this.#length -= removed
    return removed
  }

  /** Ceph's remove_by_filter: O(n), for rare operations (cancelling one item). */
  removeIf (predicate: (item: T) => boolean, out?: (item: T) => void): number {
    let removed = 0
    const strict = this.#strictActive
    for (let i = strict.length - 1; i >= 0; i--) {
      const sq = strict[i]
      removed += sq.removeIf(predicate, out)
      if (sq.size === 0) this.#retire(this.#strict, strict, sq)
    }
    const weighted = this.#weightedActive
    for (let i = weighted.length - 1; i >= 0; i--) {
      const sq = weighted[i]
      removed += sq.removeIf(predicate, out)
      if (sq.size === 0) this.#retireWeighted(sq)
    }
    this.#length -= removed
    return removed
  }

  /** Number of queued items of one class. O(P). */
  lengthOf (cls: number): number {
    let n = 0
    for (const sq of this.#strictActive) n += sq.classes.get(cls)?.size ?? 0
    for (const sq of this.#weightedActive) n += sq.classes.get(cls)?.size ?? 0
    return n
  }

  /** Visits every item (strict first, highest priority first). O(n); for inspection, not the hot path. */
  forEach (fn: (item: T, cls: number, priority: number, strict: boolean) => void): void {
    for (let i = this.#strictActive.length - 1; i >= 0; i--) {
      const sq = this.#strictActive[i]
      for (const [cls, item] of sq) fn(item, cls, sq.priority, true)
    }
    for (let i = this.#weightedActive.length - 1; i >= 0; i--) {
      const sq = this.#weightedActive[i]
      for (const [cls, item] of sq) fn(item, cls, sq.priority, false)
    }
  }

  dump (): PrioritizedQueueDump {
    return {
      length: this.#length,
      totalPriority: this.#totalPriority,
      strict: this.#strictActive.map((sq) => ({ priority: sq.priority, size: sq.size, classes: sq.classes.size })).reverse(),
      weighted: this.#weightedActive.map((sq) => ({ priority: sq.priority, size: sq.size, classes: sq.classes.size, tokens: sq.tokens })).reverse()
    }
  }

  #subQueue (map: Map<number, SubQueue<T>>, priority: number): SubQueue<T> {
    let sq = map.get(priority)
    if (sq === undefined) {
      sq = new SubQueue<T>(priority)
      map.set(priority, sq)
    }
    return sq
  }

  #retire (map: Map<number, SubQueue<T>>, active: Array<SubQueue<T>>, sq: SubQueue<T>): void {
    removeSorted(active, sq)
    if (map.size > MAX_CACHED_SUBQUEUES) map.delete(sq.priority)
  }

  #retireWeighted (sq: SubQueue<T>): void {
    // Ceph erases an emptied subqueue, so its unused tokens are lost with it.
    this.#retire(this.#weighted, this.#weightedActive, sq)
    this.#totalPriority -= sq.priority
    sq.tokens = 0
  }

  #distributeTokens (cost: number): void {
    const total = this.#totalPriority
    if (total === 0) return
    const max = this.maxTokens
    for (const sq of this.#weightedActive) {
      const t = sq.tokens + Math.floor(sq.priority * cost / total) + 1
      sq.tokens = t > max ? max : t
    }
  }
}
