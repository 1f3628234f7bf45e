import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { PrioritizedQueue, DEFAULT_MIN_COST, DEFAULT_MAX_TOKENS } from '../../../lib/messenger/dispatch/prioritized-queue.ts'

function drain<T> (q: PrioritizedQueue<T>): T[] {
  const out: T[] = []
  for (let item = q.dequeue(); item !== undefined; item = q.dequeue()) out.push(item)
  return out
}

// A slow, obviously-correct transcription of Ceph's algorithm (arrays, splices, maps created and
// erased on demand) with this module's class ring: a new class joins just before the cursor.
interface ModelNode { cls: number, items: Array<{ cost: number, item: number }> }
interface ModelSub { ring: ModelNode[], cur: number, tokens: number }

class Model {
  strict = new Map<number, ModelSub>()
  weighted = new Map<number, ModelSub>()
  totalPriority = 0
  length = 0
  readonly minCost: number
  readonly maxTokens: number

  constructor (minCost: number, maxTokens: number) {
    this.minCost = minCost
    this.maxTokens = maxTokens
  }

  static push (sub: ModelSub, cls: number, cost: number, item: number): void {
    let node = sub.ring.find((n) => n.cls === cls)
    if (node === undefined) {
      node = { cls, items: [] }
      if (sub.ring.length === 0) {
        sub.ring.push(node)
        sub.cur = 0
      } else {
        sub.ring.splice(sub.cur, 0, node)
        sub.cur++
      }
    }
    node.items.push({ cost, item })
  }

  static pop (sub: ModelSub): { cost: number, item: number } {
    const node = sub.ring[sub.cur]
    const front = node.items.shift() as { cost: number, item: number }
    if (node.items.length === 0) {
      sub.ring.splice(sub.cur, 1)
      if (sub.cur >= sub.ring.length) sub.cur = 0
    } else {
      sub.cur = (sub.cur + 1) % sub.ring.length
    }
    return front
  }

  static size (sub: ModelSub): number {
    return sub.ring.reduce((n, node) => n + node.items.length, 0)
  }

  static removeClass (sub: ModelSub, cls: number, out: number[]): number {
    const i = sub.ring.findIndex((n) => n.cls === cls)
    if (i === -1) return 0
    const node = sub.ring[i]
    for (const e of node.items) out.push(e.item)
    sub.ring.splice(i, 1)
    if (i < sub.cur) sub.cur--
    if (sub.cur >= sub.ring.length) sub.cur = 0
    return node.items.length
  }

  enqueueStrict (cls: number, priority: number, item: number): void {
    let sub = this.strict.get(priority)
    if (sub === undefined) {
      sub = { ring: [], cur: 0, tokens: 0 }
      this.strict.set(priority, sub)
    }
    Model.push(sub, cls, 0, item)
    this.length++
  }

  enqueue (cls: number, priority: number, cost: number, item: number): void {
    const c = Math.min(Math.max(cost, this.minCost), this.maxTokens)
    let sub = this.weighted.get(priority)
    if (sub === undefined) {
      sub = { ring: [], cur: 0, tokens: 0 }
      this.weighted.set(priority, sub)
      this.totalPriority += priority
    }
    Model.push(sub, cls, c, item)
    this.length++
  }

  dequeue (): number | undefined {
    if (this.length === 0) return undefined
    this.length--
    if (this.strict.size > 0) {
      const p = Math.max(...this.strict.keys())
      const sub = this.strict.get(p) as ModelSub
      const { item } = Model.pop(sub)
      if (Model.size(sub) === 0) this.strict.delete(p)
      return item
    }
    const prios = [...this.weighted.keys()].sort((a, b) => a - b)
    let chosen = prios[prios.length - 1]
    for (const p of prios) {
      const sub = this.weighted.get(p) as ModelSub
      const cost = sub.ring[sub.cur].items[0].cost
      if (cost < sub.tokens) {
        sub.tokens -= cost
        chosen = p
        break
      }
    }
    const sub = this.weighted.get(chosen) as ModelSub
    const { cost, item } = Model.pop(sub)
    if (Model.size(sub) === 0) {
      this.weighted.delete(chosen)
      this.totalPriority -= chosen
    }
    if (this.totalPriority !== 0) {
      for (const [p, s] of this.weighted) {
        s.tokens = Math.min(this.maxTokens, s.tokens + Math.floor(p * cost / this.totalPriority) + 1)
      }
    }
    return item
  }

  removeByClass (cls: number): number[] {
    const out: number[] = []
    for (const [map, weighted] of [[this.strict, false], [this.weighted, true]] as const) {
      for (const p of [...map.keys()].sort((a, b) => b - a)) {
        const sub = map.get(p) as ModelSub
        this.length -= Model.removeClass(sub, cls, out)
        if (Model.size(sub) === 0) {
          map.delete(p)
          if (weighted) this.totalPriority -= p
        }
      }
    }
    return out
  }

  lengthOf (cls: number): number {
    let n = 0
    for (const map of [this.strict, this.weighted]) {
      for (const sub of map.values()) n += sub.ring.find((node) => node.cls === cls)?.items.length ?? 0
    }
    return n
  }
}

type Op =
  | { op: 'strict', cls: number, priority: number }
  | { op: 'weighted', cls: number, priority: number, cost: number }
  | { op: 'dequeue' }
  | { op: 'remove', cls: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('strict' as const), cls: fc.integer({ min: 0, max: 4 }), priority: fc.integer({ min: 64, max: 68 }) }),
  fc.record({ op: fc.constant('weighted' as const), cls: fc.integer({ min: 0, max: 4 }), priority: fc.integer({ min: 0, max: 6 }), cost: fc.integer({ min: 0, max: 300 }) }),
  fc.constant({ op: 'dequeue' as const }),
  fc.constant({ op: 'dequeue' as const }),
  fc.record({ op: fc.constant('remove' as const), cls: fc.integer({ min: 0, max: 4 }) })
)

describe('PrioritizedQueue', () => {
  it('has Ceph defaults', () => {
    const q = new PrioritizedQueue<number>()
    assert.equal(q.minCost, DEFAULT_MIN_COST)
    assert.equal(q.maxTokens, DEFAULT_MAX_TOKENS)
    assert.equal(DEFAULT_MIN_COST, 65536)
    assert.equal(DEFAULT_MAX_TOKENS, 16 * 1024 * 1024)
    assert.equal(q.dequeue(), undefined)
    assert.equal(q.length, 0)
  })

  it('serves strict items highest priority first, FIFO among equal priorities', () => {
    const q = new PrioritizedQueue<string>()
    q.enqueueStrict(1, 127, 'a127')
    q.enqueueStrict(1, 196, 'a196')
    q.enqueueStrict(1, 127, 'b127')
    q.enqueueStrict(1, 255, 'a255')
    q.enqueueStrict(1, 196, 'b196')
    q.enqueueStrict(1, 64, 'a64')
    assert.equal(q.length, 6)
    assert.deepEqual(drain(q), ['a255', 'a196', 'b196', 'a127', 'b127', 'a64'])
    assert.equal(q.length, 0)
  })

  it('rotates round robin across classes within a priority, FIFO within a class', () => {
    const q = new PrioritizedQueue<string>()
    for (const item of ['a1', 'a2', 'a3']) q.enqueueStrict(1, 127, item)
    for (const item of ['b1', 'b2']) q.enqueueStrict(2, 127, item)
    q.enqueueStrict(3, 127, 'c1')
    assert.deepEqual(drain(q), ['a1', 'b1', 'c1', 'a2', 'b2', 'a3'])
  })

  it('lets a class that arrives mid-rotation wait for the classes already queued', () => {
    const q = new PrioritizedQueue<string>()
    q.enqueueStrict(1, 127, 'a1')
    q.enqueueStrict(1, 127, 'a2')
    q.enqueueStrict(2, 127, 'b1')
    assert.equal(q.dequeue(), 'a1') // cursor now at class 2
    q.enqueueStrict(3, 127, 'c1')
    assert.deepEqual(drain(q), ['b1', 'a2', 'c1'])
  })

  it('serves weighted items only when no strict item is left', () => {
    const q = new PrioritizedQueue<string>()
    q.enqueue(1, 63, 0, 'w63')
    q.enqueue(1, 10, 0, 'w10')
    q.enqueueStrict(1, 64, 's64')
    q.enqueueStrict(2, 255, 's255')
    assert.equal(q.dequeue(), 's255')
    assert.equal(q.dequeue(), 's64')
    q.enqueueStrict(3, 100, 's100')
    assert.equal(q.dequeue(), 's100')
    const rest = drain(q)
    assert.deepEqual(rest.sort(), ['w10', 'w63'])
  })

  it('follows the token arithmetic of Ceph on a hand-computed trace', () => {
    // min cost 10: with nobody able to pay, the highest priority (3) goes first and both buckets fill.
    const q = new PrioritizedQueue<string>({ minCost: 10, maxTokensPerPriority: 1000 })
    for (let i = 0; i < 4; i++) q.enqueue(0, 3, 1, `h${i}`)
    for (let i = 0; i < 2; i++) q.enqueue(0, 1, 1, `l${i}`)
    // total 4; per dequeue of cost 10: prio 3 gets 30/4+1 = 8, prio 1 gets 10/4+1 = 3.
    assert.equal(q.dequeue(), 'h0') // tokens h=8 l=3
    assert.equal(q.dequeue(), 'h1') // nobody > 10 yet → highest; h=16 l=6
    assert.equal(q.dequeue(), 'h2') // l 6 < 10, h 16 > 10 → h pays: h=6, then +8 → 14, l=9
    assert.equal(q.dequeue(), 'h3') // l 9 < 10, h 14 > 10 → h pays; prio 3 empties (total 1): l += 10/1+1 → 20
    assert.deepEqual(q.dump().weighted, [{ priority: 1, size: 2, classes: 1, tokens: 20 }])
    assert.equal(q.dequeue(), 'l0')
    assert.equal(q.dequeue(), 'l1')
  })

  it('does not starve a low weighted priority behind a steady backlog of a higher one', () => {
    const q = new PrioritizedQueue<string>()
    for (let i = 0; i < 10; i++) q.enqueue(7, 1, 0, `low${i}`)
    let high = 0
    const served: number[] = []
    for (let n = 0; n < 2000 && served.length < 10; n++) {
      // Keep the high priority's backlog steady: one new item for every item served.
      while (q.length - (10 - served.length) < 50) q.enqueue(high % 5, 63, 0, `high${high++}`)
      const item = q.dequeue() as string
      if (item.startsWith('low')) served.push(n)
    }
    assert.equal(served.length, 10, 'all low-priority items got served')
    // Priority 1 of total 64 earns one turn roughly every 64 dequeues.
    const gaps = served.slice(1).map((n, i) => n - served[i])
    for (const gap of gaps) assert.ok(gap >= 32 && gap <= 96, `gap ${gap}`)
  })

  it('splits weighted service roughly in proportion to priority', () => {
    const q = new PrioritizedQueue<number>()
    for (let i = 0; i < 6000; i++) q.enqueue(i % 3, i % 2 === 0 ? 10 : 50, 65536, i % 2)
    let low = 0
    for (let n = 0; n < 1200; n++) if (q.dequeue() === 0) low++
    const share = low / 1200
    assert.ok(share > 0.1 && share < 0.25, `priority 10 share ${share}`)
  })

  it('clamps cost into [minCost, maxTokens]', () => {
    const q = new PrioritizedQueue<string>({ minCost: 5, maxTokensPerPriority: 50 })
    q.enqueue(0, 2, 1_000_000, 'big')
    q.enqueue(0, 2, Number.NaN, 'nan')
    q.enqueue(0, 4, -3, 'small')
    // With every cost clamped, tokens stay within the bucket.
    drain(q)
    q.enqueue(0, 1, 0, 'x')
    assert.ok(q.dump().weighted.every((s) => (s.tokens ?? 0) <= 50))
    assert.deepEqual(drain(q), ['x'])
  })

  it('rejects priorities it cannot order', () => {
    const q = new PrioritizedQueue<string>()
    assert.throws(() => q.enqueue(0, -1, 0, 'x'), RangeError)
    assert.throws(() => q.enqueue(0, Number.NaN, 0, 'x'), RangeError)
    assert.throws(() => q.enqueueStrict(0, Number.NaN, 'x'), RangeError)
    assert.throws(() => new PrioritizedQueue({ minCost: -1 }), RangeError)
    assert.throws(() => new PrioritizedQueue({ maxTokensPerPriority: 0 }), RangeError)
    assert.equal(q.length, 0)
  })

  it('removeByClass drops one class everywhere and reports the items in order', () => {
    const q = new PrioritizedQueue<string>()
    q.enqueueStrict(1, 127, 'a127-1')
    q.enqueueStrict(2, 127, 'b127')
    q.enqueueStrict(1, 196, 'a196')
    q.enqueueStrict(1, 127, 'a127-2')
    q.enqueue(1, 10, 0, 'a10')
    q.enqueue(2, 10, 0, 'b10')
    q.enqueue(1, 20, 0, 'a20')
    assert.equal(q.lengthOf(1), 5)
    assert.equal(q.lengthOf(2), 2)
    const out: string[] = []
    assert.equal(q.removeByClass(1, (item) => out.push(item)), 5)
    assert.deepEqual(out, ['a196', 'a127-1', 'a127-2', 'a20', 'a10'])
    assert.equal(q.lengthOf(1), 0)
    assert.equal(q.length, 2)
    assert.equal(q.removeByClass(1), 0)
    assert.equal(q.removeByClass(42), 0)
    assert.deepEqual(drain(q), ['b127', 'b10'])
    assert.equal(q.dump().totalPriority, 0)
  })

  it('removeByClass keeps the rotation going when it removes the class under the cursor', () => {
    const q = new PrioritizedQueue<string>()
    for (const [cls, item] of [[1, 'a1'], [2, 'b1'], [3, 'c1'], [1, 'a2'], [2, 'b2'], [3, 'c2']] as const) q.enqueueStrict(cls, 127, item)
    assert.equal(q.dequeue(), 'a1') // cursor on class 2
    q.removeByClass(2)
    assert.deepEqual(drain(q), ['c1', 'a2', 'c2'])
  })

  it('removeIf removes matching items only', () => {
    const q = new PrioritizedQueue<number>()
    for (let i = 0; i < 20; i++) {
      if (i % 2 === 0) q.enqueueStrict(i % 3, 100 + (i % 4), i)
      else q.enqueue(i % 3, i % 5, 0, i)
    }
    const out: number[] = []
    assert.equal(q.removeIf((n) => n % 5 === 0, (n) => out.push(n)), 4)
    assert.deepEqual(out.sort((a, b) => a - b), [0, 5, 10, 15])
    assert.equal(q.length, 16)
    const rest = drain(q).sort((a, b) => a - b)
    assert.deepEqual(rest, Array.from({ length: 20 }, (_, i) => i).filter((n) => n % 5 !== 0))
  })

  it('forEach visits every queued item', () => {
    const q = new PrioritizedQueue<string>()
    q.enqueue(1, 3, 0, 'w')
    q.enqueueStrict(1, 100, 's100')
    q.enqueueStrict(2, 200, 's200')
    const seen: Array<[string, number, number, boolean]> = []
    q.forEach((item, cls, priority, strict) => seen.push([item, cls, priority, strict]))
    assert.deepEqual(seen, [['s200', 2, 200, true], ['s100', 1, 100, true], ['w', 1, 3, false]])
  })

  it('matches a reference model of Ceph\'s algorithm on random operation sequences', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
      const q = new PrioritizedQueue<number>({ minCost: 50, maxTokensPerPriority: 400 })
      const m = new Model(50, 400)
      let next = 0
      for (const o of ops) {
        switch (o.op) {
          case 'strict':
            q.enqueueStrict(o.cls, o.priority, next)
            m.enqueueStrict(o.cls, o.priority, next++)
            break
          case 'weighted':
            q.enqueue(o.cls, o.priority, o.cost, next)
            m.enqueue(o.cls, o.priority, o.cost, next++)
            break
          case 'dequeue':
            assert.equal(q.dequeue(), m.dequeue())
            break
          case 'remove': {
            const out: number[] = []
            q.removeByClass(o.cls, (n) => out.push(n))
            assert.deepEqual(out, m.removeByClass(o.cls))
            break
          }
        }
        assert.equal(q.length, m.length)
      }
      for (let cls = 0; cls <= 4; cls++) assert.equal(q.lengthOf(cls), m.lengthOf(cls))
      for (let item = m.dequeue(); item !== undefined; item = m.dequeue()) assert.equal(q.dequeue(), item)
      assert.equal(q.dequeue(), undefined)
    }), { numRuns: 300 })
  })

  it('dequeues every enqueued item exactly once', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 9 }), fc.nat({ max: 1 << 25 }), fc.boolean()), { maxLength: 500 }),
      (entries) => {
        const q = new PrioritizedQueue<number>()
        const seen = new Set<number>()
        let dequeued = 0
        entries.forEach(([priority, cls, cost, interleave], i) => {
          if (priority >= 64) q.enqueueStrict(cls, priority, i)
          else q.enqueue(cls, priority, cost, i)
          if (interleave) {
            const item = q.dequeue() as number
            assert.ok(!seen.has(item))
            seen.add(item)
            dequeued++
          }
        })
        for (const item of drain(q)) {
          assert.ok(!seen.has(item))
          seen.add(item)
          dequeued++
        }
        assert.equal(dequeued, entries.length)
        assert.equal(seen.size, entries.length)
        assert.equal(q.length, 0)
      }))
  })

  it('enqueues and dequeues a 200 000-deep queue with random priorities quickly', () => {
    const n = 200_000
    const prios = new Uint8Array(n)
    const classes = new Uint16Array(n)
    let seed = 12345
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0
      return seed >>> 8
    }
    for (let i = 0; i < n; i++) {
      prios[i] = rand() & 0xff
      classes[i] = rand() % 100
    }
    const q = new PrioritizedQueue<number>()
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      if (prios[i] >= 64) q.enqueueStrict(classes[i], prios[i], i)
      else q.enqueue(classes[i], prios[i], 0, i)
    }
    const t1 = performance.now()
    let count = 0
    let lastStrict = 256
    while (q.length > 0) {
      const i = q.dequeue() as number
      if (prios[i] >= 64) {
        assert.ok(prios[i] <= lastStrict)
        lastStrict = prios[i]
      }
      count++
    }
    const t2 = performance.now()
    assert.equal(count, n)
    const ms = t2 - t0
    console.log(`# PrioritizedQueue ${n} deep: enqueue ${(n / (t1 - t0) * 1000).toFixed(0)} ops/s, dequeue ${(n / (t2 - t1) * 1000).toFixed(0)} ops/s, total ${ms.toFixed(1)} ms`)
    assert.ok(ms < 5000, `took ${ms} ms`)
  })
})
