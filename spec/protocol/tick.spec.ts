// The tick rules (keepalive timeout, lossy idle timeout, keepalive due) and the ACK cadence.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ACK_EVERY, ACK_EVERY_BYTES, AckCadence } from '../../lib/protocol/ack.ts'
import { decideTick, tickPeriod } from '../../lib/protocol/tick.ts'

const cfg = { keepaliveIntervalMs: 0, keepaliveTimeoutMs: 0, idleTimeoutMs: 900_000 }

test('tick period: the shortest rule that applies; none at all means no timer', () => {
  assert.equal(tickPeriod(cfg, true), 900_000)
  assert.equal(tickPeriod(cfg, false), undefined, 'a lossless session has no idle rule')
  assert.equal(tickPeriod({ ...cfg, keepaliveIntervalMs: 10_000, keepaliveTimeoutMs: 30_000 }, true), 10_000)
})

test('a lossy session idle in both directions for idleTimeoutMs is reset; traffic either way keeps it', () => {
  assert.deepEqual(decideTick(cfg, true, 1_000_000, 50_000, 60_000), { action: 'idle', idleMs: 940_000 })
  assert.deepEqual(decideTick(cfg, true, 1_000_000, 50_000, 500_000), { action: 'none' })
  assert.deepEqual(decideTick(cfg, false, 1_000_000, 0, 0), { action: 'none' }, 'lossless sessions are never idle-reset')
})

test('nothing received for keepaliveTimeoutMs faults the socket, before any other rule', () => {
  const c = { ...cfg, keepaliveIntervalMs: 1000, keepaliveTimeoutMs: 5000 }
  assert.deepEqual(decideTick(c, true, 10_000, 4_000, 9_999), { action: 'keepalive-timeout', silentMs: 6000 })
  assert.deepEqual(decideTick(c, true, 10_000, 6_000, 9_999), { action: 'keepalive' })
})

test('ACK cadence: due every ACK_EVERY messages or ACK_EVERY_BYTES payload bytes; an ACK sent starts over', () => {
  const a = new AckCadence()
  assert.equal(a.due(ACK_EVERY - 1), false)
  assert.equal(a.due(ACK_EVERY), true)
  a.accepted(ACK_EVERY_BYTES - 1)
  assert.equal(a.due(1), false)
  a.accepted(1)
  assert.equal(a.due(1), true)
  a.sent()
  assert.equal(a.due(1), false)
})
