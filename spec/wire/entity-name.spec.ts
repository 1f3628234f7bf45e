import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { EntityType } from '../../lib/wire/constants.ts'
import { decodeEntityName, encodeEntityName, formatEntityName, parseEntityName } from '../../lib/wire/entity-name.ts'

describe('ceph_entity_name', () => {
  it('round-trips u8 type + s64 num (safe integers, incl. -1)', () => {
    const num = fc.oneof(fc.constant(-1), fc.maxSafeInteger(), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }))
    fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), num, (type, n) => {
      const b = encodeEntityName({ type, num: n })
      assert.equal(b.length, 9)
      assert.equal(new DataView(b.buffer).getBigInt64(1, true), BigInt(n))
      assert.deepEqual(decodeEntityName(b), { type, num: n })
    }), { numRuns: 300 })
  })

  it('client.? is type 8 and num -1 (all ones)', () => {
    const b = encodeEntityName({ type: EntityType.CLIENT, num: -1 })
    assert.deepEqual([...b], [8, 255, 255, 255, 255, 255, 255, 255, 255])
    assert.equal(formatEntityName({ type: EntityType.CLIENT, num: -1 }), 'client.?')
    assert.equal(formatEntityName({ type: EntityType.MON, num: 0 }), 'mon.0')
    assert.equal(formatEntityName({ type: EntityType.CLIENT, num: 4112 }), 'client.4112')
  })

  it('parses names', () => {
    assert.deepEqual(parseEntityName('mon.a'), { type: EntityType.MON, id: 'a', num: -1 })
    assert.deepEqual(parseEntityName('client.4112'), { type: EntityType.CLIENT, id: '4112', num: 4112 })
    assert.equal(parseEntityName('nobody.1'), undefined)
    assert.equal(parseEntityName('mon'), undefined)
  })
})
