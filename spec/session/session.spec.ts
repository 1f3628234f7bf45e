import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { Session } from '../../lib/session/session.ts'
import { OutQueue } from '../../lib/session/out-queue.ts'
import { Priority } from '../../lib/wire/constants.ts'

interface M { seq: number, priority: number, payloadLength: number, id: number }
const msg = (id: number, priority: number = Priority.DEFAULT): M => ({ seq: 0, priority, payloadLength: 10, id })

test('out_q: highest priority first, FIFO within a priority, bytes tracked', () => {
  const q = new OutQueue<M>()
  q.push(msg(1, 127)); q.push(msg(2, 196)); q.push(msg(3, 127)); q.push(msg(4, 255)); q.push(msg(5, 196))
  assert.equal(q.bytes, 50)
  const order: number[] = []
  for (let m = q.shift(); m !== undefined; m = q.shift()) order.push(m.id)
  assert.deepEqual(order, [4, 2, 5, 1, 3])
  assert.equal(q.length, 0)
  assert.equal(q.bytes, 0)
})

test('seqs are assigned at write time; ACK trims the sent list', () => {
  const s = new Session<M>(false)
  for (let i = 1; i <= 5; i++) s.queue(msg(i))
  const sent = [s.nextToSend(), s.nextToSend(), s.nextToSend()]
  assert.deepEqual(sent.map((m) => m?.seq), [1, 2, 3])
  assert.equal(s.sentLength, 3)
  assert.equal(s.handleAck(2), 2)
  assert.equal(s.sentLength, 1)
  assert.equal(s.handleAck(2), 0, 'a repeated ACK trims nothing')
})

test('what is owed to the peer (queued + unacknowledged) is counted in messages and bytes through send, ACK, requeue and reset', () => {
  const s = new Session<M>(false)
  for (let i = 1; i <= 5; i++) s.queue(msg(i))
  assert.deepEqual([s.pending, s.pendingBytes, s.sentBytes], [5, 50, 0])
  s.nextToSend(); s.nextToSend(); s.nextToSend()
  assert.deepEqual([s.pending, s.pendingBytes, s.sentBytes], [5, 50, 30])
  s.handleAck(1)
  assert.deepEqual([s.pending, s.pendingBytes, s.sentBytes], [4, 40, 20])
  s.requeueSent()
  assert.deepEqual([s.pending, s.pendingBytes, s.sentBytes], [4, 40, 0])
  s.nextToSend()
  s.reset(0)
  assert.deepEqual([s.pending, s.pendingBytes, s.sentBytes], [0, 0, 0])
})

test('fault: unacked messages are requeued at HIGHEST ahead of everything and resent with the same seqs', () => {
  const s = new Session<M>(false)
  for (let i = 1; i <= 4; i++) s.queue(msg(i))
  s.nextToSend(); s.nextToSend(); s.nextToSend()
  s.handleAck(1)
  s.queue(msg(9, 255))
  assert.equal(s.requeueSent(), 2)
  assert.equal(s.outSeq, 1)
  const again = [s.nextToSend(), s.nextToSend(), s.nextToSend(), s.nextToSend()]
  assert.deepEqual(again.map((m) => [m?.id, m?.seq]), [[2, 2], [3, 3], [9, 4], [4, 5]])
})

test('TAG_SEQ: requeued messages the peer already has are discarded, and out_seq advances past them', () => {
  const s = new Session<M>(false)
  for (let i = 1; i <= 4; i++) s.queue(msg(i))
  for (let i = 0; i < 4; i++) s.nextToSend()
  s.requeueSent()
  assert.equal(s.discardRequeuedUpTo(3), 3)
  assert.equal(s.outSeq, 3)
  const m = s.nextToSend()
  assert.equal(m?.id, 4)
  assert.equal(m?.seq, 4)
})

test('receive: seq <= in_seq is a duplicate; gaps are accepted; ACKs are coalesced', () => {
  const s = new Session<M>(false)
  assert.equal(s.receive(1), 'accept')
  assert.equal(s.receive(2), 'accept')
  assert.equal(s.receive(2), 'duplicate')
  assert.equal(s.receive(1), 'duplicate')
  assert.equal(s.receive(5), 'accept')
  assert.equal(s.takeAck(), 5)
  assert.equal(s.takeAck(), undefined)
})

test('lossy sessions keep nothing for replay and never ACK', () => {
  const s = new Session<M>(true)
  s.queue(msg(1))
  s.nextToSend()
  assert.equal(s.sentLength, 0)
  s.receive(1)
  assert.equal(s.takeAck(), undefined)
})

test('reset drops queued and sent messages and restarts the sequences', () => {
  const s = new Session<M>(false)
  s.queue(msg(1)); s.queue(msg(2)); s.nextToSend()
  s.receive(7)
  s.faultReconnect(); s.faultReconnect(); s.faultReconnect()
  assert.equal(s.connectSeq, 3)
  const dropped = s.reset(100)
  assert.equal(dropped.length, 2)
  assert.equal(s.inSeq, 0)
  assert.equal(s.outSeq, 100)
  assert.equal(s.connectSeq, 0)
  assert.equal(s.pending, 0)
})

test('property: across random faults, ACKs and SEQ exchanges, the receiver gets every message exactly once, in order', () => {
  fc.assert(fc.property(fc.array(fc.oneof(
    fc.constant('send' as const), fc.constant('deliver' as const), fc.constant('ack' as const), fc.constant('fault' as const)
  ), { maxLength: 200 }), fc.integer({ min: 1, max: 40 }), (ops, n) => {
    const tx = new Session<M>(false)
    const rx = new Session<M>(false)
    for (let i = 1; i <= n; i++) tx.queue(msg(i))
    let wire: M[] = []
    const got: number[] = []
    const deliver = (): void => {
      const m = wire.shift()
      if (m !== undefined && rx.receive(m.seq) === 'accept') got.push(m.id)
    }
    for (const op of ops) {
      if (op === 'send') { const m = tx.nextToSend(); if (m !== undefined) wire.push({ ...m }) }
      if (op === 'deliver') deliver()
      if (op === 'ack') tx.handleAck(rx.inSeq)
      if (op === 'fault') { wire = []; tx.requeueSent(); tx.discardRequeuedUpTo(rx.inSeq) }
    }
    // Heal: a last reconnect, then run to completion.
    wire = []; tx.requeueSent(); tx.discardRequeuedUpTo(rx.inSeq)
    for (let m = tx.nextToSend(); m !== undefined; m = tx.nextToSend()) wire.push({ ...m })
    while (wire.length > 0) deliver()
    assert.deepEqual(got, Array.from({ length: n }, (_, i) => i + 1))
  }), { numRuns: 500 })
})
