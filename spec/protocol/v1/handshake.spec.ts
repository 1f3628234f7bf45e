// The v1 protocol driven alone: both handshakes as generators, sessions and the fault decision,
// with no socket, no timer and no promise. A lossless reconnect with replay and every answer of
// the server's accept table (READY, SEQ, RETRY_SESSION, RETRY_GLOBAL, WAIT, RESETSESSION).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decideFault } from '../../../lib/protocol/fault.ts'
import type { ExistingSession } from '../../../lib/protocol/v1/accept-decision.ts'
import { Policy } from '../../../lib/session/policy.ts'
import { addr, connect, end, msg, transfer } from './pair.ts'
import type { End } from './pair.ts'

const CLIENT = addr(6801, 11)
const SERVER = addr(6800, 10)

function describe (e: End, over: Partial<ExistingSession> = {}): ExistingSession {
  return { connectSeq: e.session.connectSeq, peerGlobalSeq: e.session.peerGlobalSeq, lossy: e.session.lossy, connecting: false, established: true, closed: false, replacing: false, policyServer: e.policy.server, ...over }
}

/** What the life loop does with a fault, without the loop: decide, then apply to the session. */
function fault (e: End, phase: 'handshake' | 'open'): ReturnType<typeof decideFault> {
  const d = decideFault({ phase, kind: 'error', policy: e.policy, lossy: e.session.lossy, replaced: false, idle: e.session.pending === 0, canDial: !e.policy.server, backoffMs: 0, initialBackoffMs: 200, maxBackoffMs: 15000 })
  if (d.action === 'reconnect' || d.action === 'standby') e.session.requeueSent()
  if (d.action === 'reconnect' && d.bumpConnectSeq) e.session.faultReconnect()
  return d
}

test('a new session: READY, both ends at connect_seq 1, the client learns the global seq', () => {
  const c = end(Policy.losslessPeer(), CLIENT)
  const s = end(Policy.losslessPeer(), SERVER)
  const r = connect(c, s)
  assert.equal(r.client?.kind, 'ready')
  assert.deepEqual(r.server, { kind: 'open', reset: false })
  assert.equal(c.session.connectSeq, 1)
  assert.equal(s.session.connectSeq, 1)
  assert.equal(c.session.peerGlobalSeq, s.gseq)
  assert.deepEqual(c.steps.slice(0, 4), ['connect:start', 'write', 'read:banner', 'read:addr'])
})

test('lossless reconnect with replay: the SEQ exchange drops what the server has, the rest is resent once, in order', () => {
  const c = end(Policy.losslessPeer(), CLIENT)
  const s = end(Policy.losslessPeer(), SERVER)
  connect(c, s)
  for (let i = 1; i <= 5; i++) c.session.queue(msg(i))
  // Five written, three arrive before the socket breaks; no ACK reached the client.
  for (let i = 0; i < 5; i++) c.session.nextToSend()
  c.session.requeueSent()
  const first = transfer(c, s, 3)
  assert.deepEqual(first, [1, 2, 3])
  // Both ends see the fault: the client reconnects (connect_seq + 1), the server waits (standby).
  assert.deepEqual(fault(c, 'open'), { action: 'reconnect', backoffMs: 0, bumpConnectSeq: true })
  assert.deepEqual(fault(s, 'open'), { action: 'standby' })
  assert.equal(c.session.connectSeq, 2)
  const r = connect(c, s, describe(s))
  assert.equal(r.client?.kind, 'ready')
  assert.deepEqual(r.server, { kind: 'replace', reset: false })
  assert.ok(s.steps.includes('read:seq'), 'the server asked for the client\'s in_seq')
  assert.equal(c.session.connectSeq, 3)
  assert.equal(s.session.connectSeq, 3)
  // The server told us in_seq 3: messages 1..3 are dropped from the replay, 4 and 5 go again.
  assert.equal(c.session.outQ.length, 2)
  assert.deepEqual(transfer(c, s), [4, 5])
  assert.equal(s.session.inSeq, 5)
})

test('RETRY_SESSION: a connect_seq behind the server\'s is told the server\'s + 1, and the retry opens', () => {
  const c = end(Policy.losslessPeer(), CLIENT)
  const s = end(Policy.losslessPeer(), SERVER)
  c.session.faultReconnect()
  const r = connect(c, s, describe(s, { connectSeq: 3, peerGlobalSeq: 0 }))
  assert.equal(r.client?.kind, 'ready')
  assert.equal(c.steps.filter((x) => x === 'connect:send_connect').length, 2, 'two connects: the first got RETRY_SESSION')
  assert.equal(c.session.connectSeq, 5, 'retried with 4; READY makes it 5 on both ends')
  assert.equal(s.session.connectSeq, 5)
})

test('RETRY_GLOBAL: a global_seq below the one the server saw is raised past it', () => {
  const c = end(Policy.losslessPeer(), CLIENT)
  const s = end(Policy.losslessPeer(), SERVER)
  c.session.faultReconnect()
  const r = connect(c, s, describe(s, { connectSeq: 0, peerGlobalSeq: 40 }))
  assert.equal(r.client?.kind, 'ready')
  assert.ok(c.gseq > 40, `global_seq raised to ${c.gseq}`)
  assert.equal(s.session.peerGlobalSeq, c.gseq)
})

test('connection race: the lower address wins; the loser is told WAIT and waits', () => {
  // The client's address is higher than the server's, and the server is itself connecting.
  const c = end(Policy.losslessPeer(), addr(6900, 99))
  const s = end(Policy.losslessPeer(), SERVER)
  const r = connect(c, s, describe(s, { connectSeq: 0, peerGlobalSeq: 0, connecting: true, established: false }))
  assert.deepEqual(r.client, { kind: 'wait' })
  assert.equal(decideFault({ phase: 'handshake', kind: 'wait', policy: c.policy, lossy: false, replaced: false, idle: true, canDial: true, backoffMs: 0, initialBackoffMs: 1, maxBackoffMs: 2 }).action, 'wait')
  // Seen from the other side, the same race is won by the incoming connection.
  const low = end(Policy.losslessPeer(), addr(6000, 1))
  const r2 = connect(low, end(Policy.losslessPeer(), SERVER), describe(s, { connectSeq: 0, connecting: true, established: false }))
  assert.equal(r2.client?.kind, 'ready')
  assert.deepEqual(r2.server, { kind: 'replace', reset: false })
})

test('RESETSESSION: a server that lost the session makes the client reset it, drop what it owed, report it, and open anew', () => {
  const c = end(Policy.losslessPeer(), CLIENT)
  const s = end(Policy.losslessPeer(), SERVER)
  connect(c, s)
  c.session.queue(msg(1))
  c.session.nextToSend()
  assert.equal(fault(c, 'open').action, 'reconnect')
  // The server restarted: it has no session for a connect_seq > 0.
  const fresh = end(Policy.losslessPeer(), SERVER)
  const r = connect(c, fresh)
  assert.equal(r.client?.kind, 'ready')
  assert.equal(c.remoteResets, 1)
  assert.equal(c.session.pending, 0, 'the unacknowledged message was dropped with the session')
  assert.equal(c.session.connectSeq, 1)
})

test('a peer that restarted (connect_seq 0 against our open session): the server resets its side and replies READY', () => {
  const c = end(Policy.losslessPeerReuse(), CLIENT)
  const s = end(Policy.losslessPeerReuse(), SERVER)
  connect(c, s)
  s.session.receive(7)
  s.steps = []
  const restarted = end(Policy.losslessPeerReuse(), CLIENT)
  const r = connect(restarted, s, describe(s))
  assert.deepEqual(r.server, { kind: 'replace', reset: true })
  assert.equal(s.remoteResets, 1)
  assert.equal(s.session.inSeq, 0)
  assert.ok(!s.steps.includes('read:seq'), 'a reset session replies READY, not SEQ')
})

test('refusal: a protocol version mismatch is refused (BADPROTOVER) and the client fails', () => {
  const c = end(Policy.losslessPeer(), CLIENT)
  const s = end(Policy.losslessPeer(), SERVER)
  assert.throws(() => {
    const r = connect(c, { ...s, policy: s.policy.with({ featuresRequired: 1n << 62n }) })
    assert.deepEqual(r.server, { kind: 'refused', tag: 'FEATURES' })
  }, /REFUSED: peer replied FEATURES/)
})
