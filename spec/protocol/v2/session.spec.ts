// msgr2's session phase end to end in memory: a lossless reconnect with replay both ways through
// SESSION_RECONNECT / RECONNECT_OK, and every other answer of the server (SESSION_RETRY,
// SESSION_RETRY_GLOBAL, SESSION_RESET full or not, WAIT in both races, peer reset, stale socket).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ExistingSession } from '../../../lib/protocol/v1/accept-decision.ts'
import { Policy } from '../../../lib/session/policy.ts'
import { EntityType } from '../../../lib/wire/constants.ts'
import { addr, connect, end, msg, receive, send } from './pair.ts'
import type { End } from './pair.ts'

const CLIENT = addr(6801, 11)
const SERVER = addr(6800, 10)

function describe (e: End, over: Partial<ExistingSession> = {}): ExistingSession {
  return { connectSeq: e.session.connectSeq, peerGlobalSeq: e.session.peerGlobalSeq, lossy: e.session.lossy, connecting: false, established: true, closed: false, replacing: false, policyServer: e.policy.server, ...over }
}

/** Both ends open a lossless session; the client then faults and will reconnect (connect_seq + 1). */
function openThenFault (policy = Policy.losslessPeer(), clientAddr = CLIENT): { c: End, s: End } {
  const c = end({ policy, addr: clientAddr })
  const s = end({ policy, addr: SERVER })
  const l = connect(c, s)
  assert.equal(l.client?.kind, 'ready')
  c.session.requeueSent()
  c.session.faultReconnect()
  return { c, s }
}

function lastReply (e: End): unknown {
  return [...e.traces].reverse().find((t) => t.what === 'session reply')?.fields.tag
}

test('a new lossless session: CLIENT_IDENT / SERVER_IDENT, cookies on both sides, connect_seq 0', () => {
  const c = end({ policy: Policy.losslessPeer(), addr: CLIENT })
  const s = end({ policy: Policy.losslessPeer(), addr: SERVER })
  const l = connect(c, s)
  assert.equal(l.client?.kind, 'ready')
  assert.deepEqual(l.server?.kind, 'open')
  const cs = c.proto.sessions.get(c.session)
  const ss = s.proto.sessions.get(s.session)
  assert.notEqual(cs.clientCookie, 0n)
  assert.notEqual(cs.serverCookie, 0n)
  assert.equal(cs.clientCookie, ss.clientCookie)
  assert.equal(cs.serverCookie, ss.serverCookie)
  assert.deepEqual(cs.peerName, { type: EntityType.OSD, num: SERVER.port })
  assert.equal(c.session.connectSeq, 0)
  assert.equal(s.session.connectSeq, 0)
  assert.equal(c.session.peerGlobalSeq, s.gseq)
  assert.equal(s.session.peerGlobalSeq, c.gseq)
})

test('lossless reconnect with replay: RECONNECT_OK drops what each side has, the rest is resent once, in order', () => {
  const c = end({ policy: Policy.losslessPeer(), addr: CLIENT })
  const s = end({ policy: Policy.losslessPeer(), addr: SERVER })
  const l = connect(c, s)
  assert.ok(l.clientWriter !== undefined && l.serverWriter !== undefined)
  for (let i = 1; i <= 5; i++) c.session.queue(msg(i))
  s.session.queue(msg(70))
  // Five written, three arrive before the socket breaks; the server's one message is lost.
  const bytes = send(c, l.clientWriter)
  assert.equal(bytes.length, 5)
  assert.deepEqual(receive(s, l.serverSource, bytes.slice(0, 3)).ids, [1, 2, 3])
  send(s, l.serverWriter)
  c.session.requeueSent()
  c.session.faultReconnect()
  assert.equal(c.session.connectSeq, 1)
  const l2 = connect(c, s, { existing: describe(s) })
  assert.equal(l2.client?.kind, 'ready')
  assert.deepEqual(l2.server, { kind: 'replace', reset: false, features: s.policy.featuresSupported & c.policy.featuresSupported })
  assert.equal(lastReply(c), 'SESSION_RECONNECT_OK')
  assert.equal(c.session.connectSeq, 1)
  assert.equal(s.session.connectSeq, 1)
  // The server said msg_seq 3: 1..3 left the client's replay; 4 and 5 go again.
  assert.equal(c.session.outQ.length, 2)
  assert.ok(l2.clientWriter !== undefined && l2.serverWriter !== undefined)
  const atServer = receive(s, l2.serverSource, send(c, l2.clientWriter))
  assert.deepEqual(atServer.ids, [4, 5])
  assert.deepEqual(atServer.srcs[0], { type: EntityType.OSD, num: CLIENT.port }, 'src from the session kept across sockets')
  assert.equal(s.session.inSeq, 5)
  // The client told msg_seq 0: the server's message is resent with its seq.
  const atClient = receive(c, l2.clientSource, send(s, l2.serverWriter))
  assert.deepEqual(atClient.ids, [70])
  assert.deepEqual(atClient.acks, [5])
  assert.equal(c.session.sentLength, 0, 'the ack_seq riding on the server\'s message trimmed our sent list')
})

test('SESSION_RETRY: a connect_seq behind the server\'s is raised past it, and the retry resumes', () => {
  const { c, s } = openThenFault()
  const l = connect(c, s, { existing: describe(s, { connectSeq: 3 }) })
  assert.equal(l.client?.kind, 'ready')
  assert.equal(c.traces.filter((t) => t.what === 'session reply')[0].fields.tag, 'SESSION_RETRY')
  assert.equal(c.session.connectSeq, 4)
  assert.equal(s.session.connectSeq, 4)
})

test('SESSION_RETRY_GLOBAL: a global_seq below the one the server saw is raised past it', () => {
  const { c, s } = openThenFault()
  const l = connect(c, s, { existing: describe(s, { peerGlobalSeq: 40 }) })
  assert.equal(l.client?.kind, 'ready')
  assert.ok(c.gseq > 40, `global_seq raised to ${c.gseq}`)
  assert.equal(s.session.peerGlobalSeq, c.gseq)
})

test('SESSION_RESET (full): a server that lost the session makes the client reset, report it, and open anew', () => {
  const { c } = openThenFault()
  c.session.queue(msg(1))
  const restarted = end({ policy: Policy.losslessPeer(), addr: SERVER })
  const l = connect(c, restarted)
  assert.equal(l.client?.kind, 'ready')
  assert.equal(l.server?.kind, 'open')
  assert.equal(c.remoteResets, 1)
  assert.equal(c.session.pending, 0, 'what we owed went with the session')
  assert.equal(c.session.connectSeq, 0)
  assert.equal(c.proto.sessions.get(c.session).serverCookie, restarted.proto.sessions.get(restarted.session).serverCookie)
})

test('SESSION_RESET (not full): a session the server never finished restarts with CLIENT_IDENT, keeping its queue', () => {
  const { c, s } = openThenFault()
  c.session.queue(msg(1))
  s.proto.sessions.get(s.session).serverCookie = 0n
  const l = connect(c, s, { existing: describe(s) })
  assert.equal(l.client?.kind, 'ready')
  assert.deepEqual(c.traces.filter((t) => t.what === 'session reply').map((t) => t.fields.tag), ['SESSION_RESET', 'SERVER_IDENT'])
  assert.equal(l.server?.kind === 'replace' && l.server.reset, false)
  assert.equal(c.remoteResets, 0)
  assert.equal(c.session.pending, 1)
  assert.equal(c.session.connectSeq, 0)
})

test('a client cookie the server does not know: SESSION_RESET, full under resetcheck', () => {
  const { c, s } = openThenFault(Policy.losslessPeerReuse())
  s.proto.sessions.get(s.session).clientCookie = 12345n
  const l = connect(c, s, { existing: describe(s) })
  assert.equal(l.client?.kind, 'ready')
  assert.equal(c.remoteResets, 1)
})

test('connection race on CLIENT_IDENT: the lower address wins; the loser is told WAIT', () => {
  const s = end({ policy: Policy.losslessPeer(), addr: SERVER })
  const racing = describe(s, { connecting: true, established: false })
  const high = end({ policy: Policy.losslessPeer(), addr: addr(6900, 99) })
  assert.deepEqual(connect(high, s, { existing: racing }).client, { kind: 'wait' })
  const low = end({ policy: Policy.losslessPeer(), addr: addr(6000, 1) })
  const l = connect(low, s, { existing: racing })
  assert.equal(l.client?.kind, 'ready')
  assert.deepEqual(l.server?.kind === 'replace' && l.server.reset, false)
})

test('reconnect race (equal connect_seq): the higher address waits, the lower one resumes', () => {
  const { c, s } = openThenFault(Policy.losslessPeer(), addr(6900, 99))
  assert.deepEqual(connect(c, s, { existing: describe(s, { connectSeq: 1 }) }).client, { kind: 'wait' })
  const low = openThenFault(Policy.losslessPeer(), addr(6000, 1))
  const l = connect(low.c, low.s, { existing: describe(low.s, { connectSeq: 1 }) })
  assert.equal(l.client?.kind, 'ready')
  assert.equal(lastReply(low.c), 'SESSION_RECONNECT_OK')
})

test('a peer that restarted (new client cookie on an open session): the server resets its side under resetcheck', () => {
  const c = end({ policy: Policy.losslessPeerReuse(), addr: CLIENT })
  const s = end({ policy: Policy.losslessPeerReuse(), addr: SERVER })
  connect(c, s)
  s.session.receive(7)
  const restarted = end({ policy: Policy.losslessPeerReuse(), addr: CLIENT, seed: 'other cookies' })
  const l = connect(restarted, s, { existing: describe(s) })
  assert.deepEqual(l.server?.kind === 'replace' && l.server.reset, true)
  assert.equal(s.remoteResets, 1)
  assert.equal(s.session.inSeq, 0)
})

test('a session being replaced answers CLIENT_IDENT with WAIT; a stale global_seq is dropped', () => {
  const s = end({ policy: Policy.losslessPeer(), addr: SERVER })
  const c = end({ policy: Policy.losslessPeer(), addr: CLIENT })
  assert.deepEqual(connect(c, s, { existing: describe(s, { replacing: true }) }).client, { kind: 'wait' })
  const c2 = end({ policy: Policy.losslessPeer(), addr: CLIENT })
  const l = connect(c2, s, { existing: describe(s, { peerGlobalSeq: 40 }) })
  assert.deepEqual(l.server, { kind: 'refused', tag: 'STALE' })
  assert.equal(l.client, undefined, 'the client is left to time out, as Ceph leaves it')
})
