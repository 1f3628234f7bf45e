import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { Ring } from '../../lib/session/ring.ts'

test('Ring behaves like an array used as a queue, across growth, wrap-around and resets', () => {
  const op = fc.oneof(
    fc.record({ k: fc.constant('push' as const), n: fc.integer({ min: 1, max: 300 }) }),
    fc.record({ k: fc.constant('shift' as const), n: fc.integer({ min: 1, max: 300 }) }),
    fc.record({ k: fc.constant('unshift' as const), n: fc.integer({ min: 0, max: 40 }) }),
    fc.record({ k: fc.constant('drain' as const), n: fc.constant(0) })
  )
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
    const ring = new Ring<number>()
    let model: number[] = []
    let next = 0
    for (const o of ops) {
      if (o.k === 'push') {
        for (let i = 0; i < o.n; i++) { ring.push(next); model.push(next++) }
      } else if (o.k === 'shift') {
        for (let i = 0; i < o.n; i++) assert.equal(ring.shift(), model.shift())
      } else if (o.k === 'unshift') {
        const xs = Array.from({ length: o.n }, () => next++)
        ring.unshiftAll(xs)
        model = [...xs, ...model]
      } else {
        assert.deepEqual(ring.drain(), model)
        model = []
      }
      assert.equal(ring.length, model.length)
      assert.equal(ring.peek(), model[0])
      for (let i = 0; i < model.length; i += 17) assert.equal(ring.at(i), model[i])
    }
  }), { numRuns: 300 })
})
