import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import PQueue from 'p-queue'
import {
  DispatchQueue,
  DispatchQueueClosedError,
  DEFAULT_DISPATCH_THROTTLE_BYTES,
  type QueueItem
} from '../../../lib/messenger/dispatch/dispatch-queue.ts'
import { CephQueueClass, type CephQueueAddOptions } from '../../../lib/messenger/dispatch/pqueue-class.ts'

type Item = QueueItem<string, string>

function msg (message: string, connId: number, priority = 127, bytes = 0, cost = 0): Item {
  return { kind: 'message', message, priority, connId, cost, bytes }
}

function label (item: Item): string {
  return item.kind === 'message' ? item.message : `${item.kind}:${item.connection}`
}

// A deliver that records what it sees.
function recorder (): { seen: string[], deliver: (item: Item) => void } {
  const seen: string[] = []
  return { seen, deliver: (item) => { seen.push(label(item)) } }
}

function gate (): { promise: Promise<void>, open: () => void } {
  let open = (): void => {}
  const promise = new Promise<void>((resolve) => { open = resolve })
  return { promise, open }
}

describe('CephQueueClass (p-queue queueClass)', () => {
  it('makes PQueue run tasks in Ceph order', async () => {
    const q = new PQueue<CephQueueClass, CephQueueAddOptions>({ concurrency: 1, autoStart: false, queueClass: CephQueueClass })
    const seen: string[] = []
    const add = (name: string, options: CephQueueAddOptions): Promise<void> => q.add(() => { seen.push(name) }, options)
    const all = [
      add('w10', { priority: 10, connId: 1 }),
      add('a127', { priority: 127, connId: 1 }),
      add('a127b', { priority: 127, connId: 1 }),
      add('b127', { priority: 127, connId: 2 }),
      add('a196', { priority: 196, connId: 1 }),
      add('default', {}),
      add('negative', { priority: -5 })
    ]
    assert.equal(q.size, 7)
    assert.equal(q.sizeBy({ priority: 127 }), 3)
    assert.equal(q.sizeBy({ connId: 2 }), 1)
    q.start()
    await Promise.all(all)
    assert.deepEqual(seen.slice(0, 4), ['a196', 'a127', 'b127', 'a127b'])
    assert.deepEqual(seen.slice(4).sort(), ['default', 'negative', 'w10'])
  })

  it('supports setPriority and AbortSignal removal', async () => {
    const q = new PQueue<CephQueueClass, CephQueueAddOptions>({ concurrency: 1, autoStart: false, queueClass: CephQueueClass })
    const seen: string[] = []
    const ac = new AbortController()
    const a = q.add(() => { seen.push('a') }, { priority: 100, id: 'a' })
    const b = q.add(() => { seen.push('b') }, { priority: 100, id: 'b' })
    const c = q.add(() => { seen.push('c') }, { priority: 100, id: 'c', signal: ac.signal })
    q.setPriority('b', 200)
    assert.throws(() => q.setPriority('nope', 1), ReferenceError)
    ac.abort(new Error('aborted'))
    await assert.rejects(c, /aborted/)
    assert.equal(q.size, 2)
    q.start()
    await Promise.all([a, b])
    assert.deepEqual(seen, ['b', 'a'])
  })

  it('flushes discarded tasks as runs so their add() promises settle', async () => {
    let instance: CephQueueClass | undefined
    const Configured = CephQueueClass.configure({ onCreate: (qc) => { instance = qc } })
    const q = new PQueue<CephQueueClass, CephQueueAddOptions>({ concurrency: 1, autoStart: false, queueClass: Configured })
    const cancelled = new Set<unknown>()
    const seen: string[] = []
    const task = (name: string) => () => { if (!cancelled.has(name)) seen.push(name) }
    const all = [
      q.add(task('a1'), { priority: 127, connId: 1, tag: 'a1' }),
      q.add(task('b1'), { priority: 127, connId: 2, tag: 'b1' }),
      q.add(task('a2'), { priority: 10, connId: 1, tag: 'a2' })
    ]
    assert.ok(instance !== undefined)
    assert.equal(instance.discardClass(1, (tag) => cancelled.add(tag)), 2)
    assert.deepEqual([...cancelled], ['a1', 'a2'])
    assert.equal(instance.queued, 1)
    assert.equal(q.size, 3, 'p-queue still owes the discarded tasks a run')
    q.start()
    await Promise.all(all)
    assert.deepEqual(seen, ['b1'])
    assert.equal(q.size, 0)
  })
})

describe('DispatchQueue', () => {
  it('defaults to a 100 MiB dispatch throttle', () => {
    const dq = new DispatchQueue({ deliver: () => {} })
    assert.equal(dq.throttle.max, 100 * 1024 * 1024)
    assert.equal(DEFAULT_DISPATCH_THROTTLE_BYTES, 104857600)
  })

  it('hands every discarded message to onDiscard (discardQueue and shutdown), after giving its bytes back', async () => {
    const dropped: string[] = []
    const dq = new DispatchQueue<string, string>({
      deliver: () => {},
      autoStart: false,
      onDiscard: (item) => { if (item.kind === 'message') dropped.push(item.message) }
    })
    for (const [name, conn] of [['a1', 1], ['b1', 2], ['a2', 1], ['b2', 2]] as const) {
      assert.ok(dq.throttle.tryGet(10))
      dq.enqueue({ kind: 'message', message: name, connId: conn, priority: 127, cost: 10, bytes: 10 })
    }
    dq.enqueue({ kind: 'connect', connection: 'c1', connId: 1 })
    assert.equal(dq.discardQueue(1), 2)
    assert.deepEqual(dropped, ['a1', 'a2'])
    assert.equal(dq.throttle.current, 20)
    await dq.shutdown()
    assert.deepEqual(dropped, ['a1', 'a2', 'b1', 'b2'])
    assert.equal(dq.throttle.current, 0)
  })

  it('delivers connection events ahead of queued messages', async () => {
    const r = recorder()
    const dq = new DispatchQueue<string, string>({ deliver: r.deliver, autoStart: false })
    dq.enqueue(msg('m1', 1))
    dq.enqueue(msg('m2', 2, 196))
    dq.enqueue(msg('w', 1, 10))
    dq.enqueue({ kind: 'connect', connection: 'c1', connId: 1 })
    dq.enqueue({ kind: 'remoteReset', connection: 'c2', connId: 2 })
    assert.equal(dq.length, 5)
    dq.start()
    await dq.drain()
    assert.deepEqual(r.seen, ['connect:c1', 'remoteReset:c2', 'm2', 'm1', 'w'])
  })

  it('shares priority 255 with HIGHEST messages round robin, as Ceph does', async () => {
    const r = recorder()
    const dq = new DispatchQueue<string, string>({ deliver: r.deliver, autoStart: false })
    dq.enqueue(msg('h1', 1, 255))
    dq.enqueue(msg('h2', 1, 255))
    dq.enqueue({ kind: 'accept', connection: 'c1', connId: 1 })
    dq.enqueue({ kind: 'refused', connection: 'c3', connId: 3 })
    dq.start()
    await dq.drain()
    assert.deepEqual(r.seen, ['h1', 'accept:c1', 'h2', 'refused:c3'])
  })

  it('orders strict messages by priority, rotates connections, and serves weighted ones last', async () => {
    const r = recorder()
    const dq = new DispatchQueue<string, string>({ deliver: r.deliver, autoStart: false })
    for (const [name, connId, priority] of [
      ['low-a', 1, 10], ['a1', 1, 127], ['a2', 1, 127], ['a3', 1, 127], ['b1', 2, 127], ['c1', 3, 127], ['hi-b', 2, 196], ['low-b', 2, 63]
    ] as const) dq.enqueue(msg(name, connId, priority))
    dq.start()
    await dq.drain()
    assert.deepEqual(r.seen.slice(0, 6), ['hi-b', 'a1', 'b1', 'c1', 'a2', 'a3'])
    assert.deepEqual(r.seen.slice(6).sort(), ['low-a', 'low-b'])
  })

  it('never delivers inside enqueue(): a burst from one tick is ordered as a whole', async () => {
    const r = recorder()
    const dq = new DispatchQueue<string, string>({ deliver: r.deliver })
    dq.enqueue(msg('first-but-low', 1, 127))
    assert.deepEqual(r.seen, [])
    dq.enqueue({ kind: 'connect', connection: 'c1', connId: 1 })
    await dq.drain()
    assert.deepEqual(r.seen, ['connect:c1', 'first-but-low'])
  })

  it('lets a deliver enqueue, discard, pause and start re-entrantly', async () => {
    const seen: string[] = []
    const dq: DispatchQueue<string, string> = new DispatchQueue<string, string>({
      deliver: (item) => {
        const name = label(item)
        seen.push(name)
        if (name === 'a') {
          dq.enqueue(msg('from-deliver', 3, 200))
          dq.discardQueue(2)
          dq.pause()
          dq.start()
        }
      }
    })
    dq.enqueue(msg('a', 1, 255))
    dq.enqueue(msg('b', 2, 127))
    dq.enqueue(msg('c', 1, 127))
    await dq.drain()
    assert.deepEqual(seen, ['a', 'from-deliver', 'c'])
  })

  it('yields to I/O after maxBatch deliveries', async () => {
    let delivered = 0
    const dq = new DispatchQueue<string, string>({ deliver: () => { delivered++ }, maxBatch: 10 })
    for (let i = 0; i < 35; i++) dq.enqueue(msg(`m${i}`, i % 3))
    const atFirstImmediate = await new Promise<number>((resolve) => setImmediate(() => resolve(delivered)))
    assert.equal(atFirstImmediate, 10)
    await dq.drain()
    assert.equal(delivered, 35)
  })

  it('pause stops after the current delivery; drain waits for start', async () => {
    const r = recorder()
    const dq = new DispatchQueue<string, string>({ deliver: (item) => { r.deliver(item); if (label(item) === 'm0') dq.pause() } })
    for (let i = 0; i < 3; i++) dq.enqueue(msg(`m${i}`, 1))
    let drained = false
    const d = dq.drain().then(() => { drained = true })
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(r.seen, ['m0'])
    assert.ok(dq.paused)
    assert.ok(!drained)
    dq.start()
    await d
    assert.deepEqual(r.seen, ['m0', 'm1', 'm2'])
  })

  it('gives the throttle bytes back after deliver returns, sync or async', async () => {
    const g = gate()
    let heldDuringDeliver = -1
    const dq = new DispatchQueue<string, string>({
      throttleBytes: 1000,
      deliver: async (item) => {
        heldDuringDeliver = dq.throttle.current
        if (label(item) === 'slow') await g.promise
      }
    })
    assert.ok(dq.throttle.tryGet(300))
    dq.enqueue(msg('slow', 1, 127, 300))
    await Promise.resolve()
    assert.equal(heldDuringDeliver, 300)
    assert.equal(dq.throttle.current, 300, 'held while deliver is pending')
    g.open()
    await dq.drain()
    assert.equal(dq.throttle.current, 0)
    const p = dq.perfDump()
    assert.equal(p.dispatched, 1)
    assert.equal(p.throttle.putSum, 300)
  })

  it('async deliveries at concurrency 1: one at a time, in Ceph order, each after the previous settled', async () => {
    const events: string[] = []
    let inflight = 0
    let peak = 0
    const dq = new DispatchQueue<string, string>({
      deliver: async (item) => {
        inflight++
        peak = Math.max(peak, inflight)
        events.push(`start ${label(item)}`)
        await new Promise((resolve) => setTimeout(resolve, 2))
        events.push(`end ${label(item)}`)
        inflight--
      }
    })
    for (const [m, p] of [['a', 127], ['b', 196], ['c', 127]] as const) dq.enqueue(msg(m, 1, p))
    await dq.drain()
    assert.equal(peak, 1)
    assert.deepEqual(events, ['start b', 'end b', 'start a', 'end a', 'start c', 'end c'])
    assert.equal(dq.perfDump().asyncStarted, 3)
  })

  it('async deliveries at concurrency 4: up to 4 in flight, started in Ceph order, all delivered; sync ones keep the pump', async () => {
    let inflight = 0
    let peak = 0
    const started: string[] = []
    const dq = new DispatchQueue<string, string>({
      concurrency: 4,
      deliver: (item) => {
        started.push(label(item))
        if (label(item).startsWith('s')) return
        inflight++
        peak = Math.max(peak, inflight)
        return new Promise<void>((resolve) => setTimeout(() => { inflight--; resolve() }, 3))
      }
    })
    for (let i = 0; i < 20; i++) dq.enqueue(msg(`m${i}`, i % 3, 127))
    dq.enqueue(msg('s-high', 9, 200))
    await dq.drain()
    assert.equal(peak, 4)
    assert.equal(started[0], 's-high', 'the higher priority starts first')
    assert.equal(started.length, 21)
    assert.equal(dq.perfDump().dispatched, 21)
    assert.equal(dq.perfDump().asyncPending, 0)
    assert.throws(() => new DispatchQueue({ deliver: () => {}, concurrency: 0 }), RangeError)
  })

  it('a hung async dispatcher times out: its slot and bytes come back, the error is counted, the rest flows', async () => {
    const errors: string[] = []
    const seen: string[] = []
    const dq = new DispatchQueue<string, string>({
      throttleBytes: 1000,
      timeoutMs: 20,
      onError: (err) => { errors.push((err as Error).name) },
      deliver: (item) => {
        seen.push(label(item))
        if (label(item) === 'hang') return new Promise<void>(() => {})
      }
    })
    assert.ok(dq.throttle.tryGet(100))
    dq.enqueue(msg('hang', 1, 127, 100))
    dq.enqueue(msg('next', 1, 127))
    await dq.drain()
    assert.deepEqual(seen, ['hang', 'next'])
    assert.deepEqual(errors, ['TimeoutError'])
    assert.equal(dq.throttle.current, 0)
    assert.equal(dq.perfDump().errors, 1)
  })

  it('discardQueue drops one connection\'s messages, keeps its events, and releases their bytes', async () => {
    const r = recorder()
    const dq = new DispatchQueue<string, string>({ deliver: r.deliver, autoStart: false, throttleBytes: 1000 })
    for (const [name, connId, prio] of [['a1', 1, 127], ['b1', 2, 127], ['a2', 1, 10], ['a3', 1, 196]] as const) {
      assert.ok(dq.throttle.tryGet(100))
      dq.enqueue(msg(name, connId, prio, 100))
    }
    dq.enqueue({ kind: 'reset', connection: 'c1', connId: 1 })
    assert.equal(dq.lengthOf(1), 3)
    assert.equal(dq.throttle.current, 400)
    assert.equal(dq.discardQueue(1), 3)
    assert.equal(dq.throttle.current, 100)
    assert.equal(dq.length, 2)
    assert.equal(dq.lengthOf(1), 0)
    assert.equal(dq.discardQueue(1), 0)
    dq.start()
    await dq.drain()
    assert.deepEqual(r.seen, ['reset:c1', 'b1'])
    const p = dq.perfDump()
    assert.equal(p.discarded, 3)
    assert.equal(p.dispatched, 2)
    assert.equal(p.enqueued, 5)
    assert.equal(p.length, 0)
    assert.equal(dq.throttle.current, 0)
  })

  it('counts deliver errors (thrown or rejected), reports them, and keeps going', async () => {
    const errors: Array<[string, string]> = []
    const seen: string[] = []
    const dq = new DispatchQueue<string, string>({
      autoStart: false,
      throttleBytes: 100,
      deliver: (item) => {
        const name = label(item)
        seen.push(name)
        if (name === 'sync') throw new Error('sync boom')
        if (name === 'async') return Promise.reject(new Error('async boom'))
      },
      onError: (err, item) => { errors.push([label(item), (err as Error).message]) }
    })
    for (const name of ['sync', 'async', 'fine']) {
      assert.ok(dq.throttle.tryGet(10))
      dq.enqueue(msg(name, 1, 127, 10))
    }
    dq.start()
    await dq.drain()
    assert.deepEqual(seen, ['sync', 'async', 'fine'])
    assert.deepEqual(errors, [['sync', 'sync boom'], ['async', 'async boom']])
    const p = dq.perfDump()
    assert.equal(p.errors, 2)
    assert.equal(p.dispatched, 3)
    assert.equal(dq.throttle.current, 0, 'bytes released even when deliver fails')
  })

  it('reports a put of bytes the reader never took instead of throwing out of the task', async () => {
    const errors: unknown[] = []
    const dq = new DispatchQueue<string, string>({ deliver: () => {}, onError: (err) => errors.push(err), throttleBytes: 100 })
    dq.enqueue(msg('untaken', 1, 127, 50))
    await dq.drain()
    assert.equal(errors.length, 1)
    assert.ok(errors[0] instanceof RangeError)
  })

  it('refuses items beyond maxQueueLength and gives their bytes back', () => {
    const dq = new DispatchQueue<string, string>({ deliver: () => {}, autoStart: false, maxQueueLength: 2, throttleBytes: 100 })
    for (let i = 0; i < 3; i++) assert.ok(dq.throttle.tryGet(10))
    assert.ok(dq.enqueue(msg('a', 1, 127, 10)))
    assert.ok(dq.enqueue(msg('b', 1, 127, 10)))
    assert.ok(!dq.enqueue(msg('c', 1, 127, 10)))
    assert.equal(dq.throttle.current, 20)
    assert.equal(dq.perfDump().dropped, 1)
    assert.equal(dq.length, 2)
  })

  it('rejects a priority that does not fit the wire header, giving the bytes back', () => {
    const dq = new DispatchQueue<string, string>({ deliver: () => {}, throttleBytes: 100 })
    assert.ok(dq.throttle.tryGet(10))
    assert.throws(() => dq.enqueue(msg('bad', 1, 70000, 10)), RangeError)
    assert.throws(() => dq.enqueue(msg('bad', 1, Number.NaN)), RangeError)
    assert.equal(dq.throttle.current, 0)
  })

  it('shutdown drops everything pending, releases the throttle and settles every promise', async () => {
    const g = gate()
    const seen: string[] = []
    const dq = new DispatchQueue<string, string>({
      throttleBytes: 100,
      deliver: async (item) => {
        seen.push(label(item))
        if (label(item) === 'inflight') await g.promise
      }
    })
    assert.ok(dq.throttle.tryGet(40))
    dq.enqueue(msg('inflight', 1, 127, 40))
    await Promise.resolve() // delivery starts from a microtask and blocks on the gate
    assert.deepEqual(seen, ['inflight'])
    for (let i = 0; i < 5; i++) {
      assert.ok(dq.throttle.tryGet(10))
      dq.enqueue(msg(`queued${i}`, i % 2, i % 2 === 0 ? 127 : 20, 10))
    }
    dq.enqueue({ kind: 'accept', connection: 'c9', connId: 9 })
    // A reader blocked on the throttle: shutdown must not leave it hanging.
    const reader = dq.throttle.get(80)
    const drained = dq.drain()
    const done = dq.shutdown()
    assert.equal(dq.shutdown(), done, 'idempotent')
    await assert.rejects(reader, DispatchQueueClosedError)
    assert.equal(dq.throttle.current, 40, 'only the in-flight message still holds bytes')
    assert.equal(dq.length, 0)
    assert.ok(!dq.enqueue(msg('late', 1, 127)))
    let finished = false
    void done.then(() => { finished = true })
    await new Promise((resolve) => setImmediate(resolve))
    assert.ok(!finished, 'waits for the delivery in progress')
    g.open()
    await done
    await drained
    await dq.drain()
    assert.deepEqual(seen, ['inflight'])
    assert.equal(dq.throttle.current, 0)
    const p = dq.perfDump()
    assert.equal(p.discarded, 6)
    assert.equal(p.dispatched, 1)
    assert.equal(p.dropped, 1)
    assert.equal(p.length, 0)
    assert.equal(p.throttle.waiting, 0)
    dq.start() // no effect after shutdown
    assert.ok(dq.closed)
  })

  it('shutdown of a paused queue still settles', async () => {
    const dq = new DispatchQueue<string, string>({ deliver: () => { throw new Error('never delivered') }, autoStart: false })
    for (let i = 0; i < 100; i++) dq.enqueue(msg(`m${i}`, i % 7, 127))
    await dq.shutdown()
    await dq.drain()
    assert.equal(dq.perfDump().discarded, 100)
    assert.equal(dq.perfDump().errors, 0)
  })

  it('lets a reader that waits on the throttle pace itself against slow delivery', async () => {
    const gates: Array<() => void> = []
    let inFlight = 0
    let maxInFlight = 0
    const dq = new DispatchQueue<string, string>({
      throttleBytes: 100,
      deliver: async () => {
        await new Promise<void>((resolve) => gates.push(resolve))
        inFlight--
      }
    })
    const reader = (async () => {
      for (let i = 0; i < 5; i++) {
        await dq.throttle.get(60)
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        dq.enqueue(msg(`m${i}`, 1, 127, 60))
      }
    })()
    while (dq.perfDump().dispatched < 5) {
      await new Promise((resolve) => setImmediate(resolve))
      gates.shift()?.()
    }
    await reader
    await dq.drain()
    assert.equal(maxInFlight, 1, '60 + 60 > 100: one message between reader and dispatcher at a time')
    assert.equal(dq.perfDump().throttle.waits, 4)
  })

  it('measures dispatch latency with the injected clock', async () => {
    let now = 1000
    const dq = new DispatchQueue<string, string>({ deliver: () => {}, autoStart: false, now: () => now })
    dq.enqueue(msg('a', 1))
    now += 10
    dq.enqueue(msg('b', 1))
    now += 30
    dq.start()
    await dq.drain()
    const p = dq.perfDump()
    assert.equal(p.dispatchLatencyMaxMs, 40)
    assert.equal(p.dispatchLatencyAvgMs, 35)
  })

  it('leaves nothing pending after a mixed workload', async () => {
    let delivered = 0
    const dq = new DispatchQueue<string, string>({ deliver: (item) => { if (item.kind === 'message') delivered++ } })
    for (let i = 0; i < 1000; i++) {
      dq.enqueue(msg(`m${i}`, i % 13, (i * 37) % 256, 0, i * 100))
      if (i % 100 === 0) dq.enqueue({ kind: 'connect', connection: `c${i}`, connId: i % 13 })
      if (i % 250 === 0) await Promise.resolve()
    }
    await dq.drain()
    const p = dq.perfDump()
    assert.equal(delivered, 1000)
    assert.equal(p.enqueued, 1010)
    assert.equal(p.dispatched, 1010)
    assert.equal(p.length, 0)
  })

  it('dispatches a 200 000-deep backlog with random priorities quickly', async () => {
    const n = 200_000
    let seed = 99
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0
      return seed >>> 8
    }
    const prios = Array.from({ length: n }, () => rand() & 0xff)
    let delivered = 0
    let lastStrict = 256
    const dq = new DispatchQueue<number, string>({
      autoStart: false,
      deliver: (item) => {
        delivered++
        if (item.kind === 'message' && item.priority >= 64) {
          assert.ok(item.priority <= lastStrict)
          lastStrict = item.priority
        }
      }
    })
    const t0 = performance.now()
    for (let i = 0; i < n; i++) dq.enqueue({ kind: 'message', message: i, priority: prios[i], connId: i % 100, cost: 0, bytes: 0 })
    const t1 = performance.now()
    dq.start()
    await dq.drain()
    const t2 = performance.now()
    assert.equal(delivered, n)
    const ms = t2 - t0
    console.log(`# DispatchQueue ${n} deep: enqueue ${(n / (t1 - t0) * 1000).toFixed(0)} ops/s, dispatch ${(n / (t2 - t1) * 1000).toFixed(0)} ops/s, total ${ms.toFixed(0)} ms`)
    assert.ok(ms < 5000, `took ${ms} ms`)
  })

  it('(reference, not asserted) p-queue per-task cost 20 000 deep: default PriorityQueue vs CephQueueClass', async () => {
    const n = 20_000
    let seed = 7
    const prios = Array.from({ length: n }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0
      return (seed >>> 8) & 0xff
    })
    const noop = (): void => {}
    const measure = async (name: string, q: PQueue<CephQueueClass, CephQueueAddOptions> | PQueue): Promise<void> => {
      const t0 = performance.now()
      for (let i = 0; i < n; i++) void q.add(noop, { priority: prios[i] })
      const t1 = performance.now()
      q.start()
      await q.onIdle()
      const t2 = performance.now()
      console.log(`# ${name} ${n} deep: enqueue ${(n / (t1 - t0) * 1000).toFixed(0)} ops/s, dispatch ${(n / (t2 - t1) * 1000).toFixed(0)} ops/s`)
    }
    await measure('p-queue default PriorityQueue', new PQueue({ concurrency: 1, autoStart: false }))
    await measure('p-queue + CephQueueClass', new PQueue<CephQueueClass, CephQueueAddOptions>({ concurrency: 1, autoStart: false, queueClass: CephQueueClass }))
  })
})
