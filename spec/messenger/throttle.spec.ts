import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Throttle } from '../../lib/messenger/throttle.ts'

// Lets resolved get() continuations run.
async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

describe('Throttle', () => {
  it('takes and gives back within its budget', () => {
    const t = new Throttle('t', 100)
    assert.equal(t.name, 't')
    assert.equal(t.max, 100)
    assert.ok(t.tryGet(60))
    assert.ok(t.tryGet(40))
    assert.equal(t.current, 100)
    assert.ok(!t.tryGet(1))
    t.put(50)
    assert.ok(t.tryGet(50))
    t.put(100)
    assert.equal(t.current, 0)
    assert.ok(t.tryGet(0))
  })

  it('queues get() callers in FIFO order and wakes them from put()', async () => {
    const t = new Throttle('t', 100)
    await t.get(60)
    const order: string[] = []
    const a = t.get(50).then(() => order.push('a50'))
    // 60 + 10 fits, but nobody overtakes a waiter.
    const b = t.get(10).then(() => order.push('b10'))
    assert.equal(t.waiting, 2)
    assert.ok(!t.tryGet(1), 'tryGet fails while anyone waits')
    await settle()
    assert.deepEqual(order, [])
    t.put(60)
    await Promise.all([a, b])
    assert.deepEqual(order, ['a50', 'b10'])
    assert.equal(t.current, 60)
    assert.equal(t.waiting, 0)
    assert.ok(t.tryGet(40))
  })

  it('admits waiters only while they fit, in order', async () => {
    const t = new Throttle('t', 100)
    assert.ok(t.tryGet(100))
    const done: number[] = []
    const gets = [30, 30, 50, 10].map((n, i) => t.get(n).then(() => done.push(i)))
    t.put(70)
    await settle()
    assert.deepEqual(done, [0, 1]) // 30 + 30 + 30 held; the 50 must wait, and so does the 10 behind it
    t.put(30)
    await settle()
    assert.deepEqual(done, [0, 1], '60 + 50 does not fit yet')
    t.put(30)
    await Promise.all(gets)
    assert.deepEqual(done, [0, 1, 2, 3])
    assert.equal(t.current, 30 + 50 + 10)
  })

  it('admits an oversize request once the budget is not overdrawn (Ceph _should_wait), so it cannot deadlock', async () => {
    const t = new Throttle('t', 100)
    assert.ok(t.tryGet(30))
    // current 30 <= max: the 150 goes through at once although current + 150 > max.
    assert.ok(t.tryGet(150))
    assert.equal(t.current, 180)
    // Now overdrawn: a second oversize request waits until current <= max.
    let big = false
    const p = t.get(150).then(() => { big = true })
    let small = false
    const q = t.get(10).then(() => { small = true })
    t.put(30)
    await settle()
    assert.ok(!big, 'current 150 > max: still waiting')
    t.put(60)
    await p
    assert.equal(t.current, 90 + 150)
    await settle()
    assert.ok(!small, 'the small request waits behind the overdraw')
    t.put(240)
    await q
    assert.equal(t.current, 10)
  })

  it('makes a request of exactly max wait for an empty budget', async () => {
    const t = new Throttle('t', 100)
    assert.ok(t.tryGet(1))
    assert.ok(!t.tryGet(100))
    let ok = false
    const p = t.get(100).then(() => { ok = true })
    await settle()
    assert.ok(!ok)
    t.put(1)
    await p
    assert.equal(t.current, 100)
  })

  it('never waits when max is 0 (unlimited) but still counts', async () => {
    const t = new Throttle('unlimited', 0)
    assert.ok(t.tryGet(1e12))
    await t.get(1e12)
    assert.equal(t.current, 2e12)
    t.put(2e12)
    assert.equal(t.current, 0)
    assert.equal(t.perfDump().waits, 0)
  })

  it('rejects bad unit counts and over-puts', async () => {
    const t = new Throttle('t', 10)
    assert.throws(() => t.tryGet(-1), RangeError)
    assert.throws(() => t.tryGet(1.5), RangeError)
    await assert.rejects(t.get(-1), RangeError)
    assert.throws(() => t.put(1), RangeError)
    assert.throws(() => new Throttle('bad', -1), RangeError)
  })

  it('abortWaiters rejects every waiter without taking anything', async () => {
    const t = new Throttle('t', 10)
    assert.ok(t.tryGet(10))
    const err = new Error('closed')
    const waits = [t.get(5), t.get(1), t.get(20)]
    assert.equal(t.abortWaiters(err), 3)
    for (const w of waits) await assert.rejects(w, (e) => e === err)
    assert.equal(t.waiting, 0)
    assert.equal(t.current, 10)
    t.put(10)
    assert.ok(t.tryGet(10), 'no stale waiter blocks the budget')
    assert.equal(t.abortWaiters(err), 0)
  })

  it('cancels one waiter through an AbortSignal and lets the ones behind it through', async () => {
    const t = new Throttle('t', 100)
    assert.ok(t.tryGet(90))
    const ac = new AbortController()
    const head = t.get(50, ac.signal)
    const behind = t.get(10)
    assert.equal(t.waiting, 2)
    ac.abort(new Error('connection closed'))
    await assert.rejects(head, /connection closed/)
    await behind // 90 + 10 fits once the 50 in front is gone
    assert.equal(t.current, 100)
    assert.equal(t.waiting, 0)
    await assert.rejects(t.get(1, ac.signal), /connection closed/, 'an aborted signal fails at once')
  })

  it('counts gets, puts and waits in perfDump', async () => {
    const t = new Throttle('bytes', 10)
    assert.ok(t.tryGet(4))
    assert.ok(t.tryGet(6))
    assert.ok(!t.tryGet(1))
    const p = t.get(3)
    t.put(10)
    await p
    assert.deepEqual(t.perfDump(), {
      name: 'bytes',
      get: 3,
      getSum: 13,
      tryGetFail: 1,
      put: 1,
      putSum: 10,
      waits: 1,
      waiting: 0,
      current: 3,
      max: 10
    })
  })

  it('admits every request exactly once, in FIFO order, and ends empty', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 100 }),
      fc.array(fc.integer({ min: 0, max: 150 }), { minLength: 1, maxLength: 60 }),
      async (max, sizes) => {
        const t = new Throttle('p', max)
        const admitted: number[] = []
        const held: number[] = []
        const gets = sizes.map((n, i) => t.get(n).then(() => {
          admitted.push(i)
          held.push(n)
        }))
        // Release whatever has been admitted until everyone got through.
        for (let rounds = 0; admitted.length < sizes.length; rounds++) {
          assert.ok(rounds < 10 * sizes.length + 10, 'no deadlock')
          await settle()
          const n = held.shift()
          if (n !== undefined) t.put(n)
        }
        await Promise.all(gets)
        assert.deepEqual(admitted, sizes.map((_, i) => i))
        for (const n of held) t.put(n)
        assert.equal(t.current, 0)
        assert.equal(t.waiting, 0)
      }), { numRuns: 100 })
  })
})
