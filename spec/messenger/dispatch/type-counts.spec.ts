import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TypeCounts } from '../../../lib/messenger/dispatch/type-counts.ts'

test('TypeCounts counts every u16 type apart, in type order', () => {
  const c = new TypeCounts()
  const types = [0, 1, 2, 255, 256, 0x7001, 0xffff, 2, 2, 0x7001]
  for (const t of types) c.inc(t)
  assert.equal(c.get(2), 3)
  assert.equal(c.get(0x7001), 2)
  assert.equal(c.get(3), 0)
  assert.equal(c.get(0x1234), 0, 'a page never touched')
  assert.deepEqual(c.toRecord(), { 0: 1, 1: 1, 2: 3, 255: 1, 256: 1, 28673: 2, 65535: 1 })
  assert.deepEqual(Object.keys(c.toRecord()).map(Number), [0, 1, 2, 255, 256, 28673, 65535])
})
