// The msgr2 protocol driven alone: both handshakes as generators over each other's bytes, with
// auth none and cephx, crc and secure framing, the signature check, and messages through the
// sockets' own writers and sources afterwards.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConMode, MonAuthServer, NoneAuthClient } from '../../../lib/auth/index.ts'
import { V2FrameSource } from '../../../lib/protocol/v2/frame-source.ts'
import { SignatureError } from '../../../lib/protocol/v2/sign.ts'
import { Policy } from '../../../lib/session/policy.ts'
import { EntityType } from '../../../lib/wire/constants.ts'
import { ADMIN, addr, cephxClient, cephxEnv, connect, end, msg, receive, send } from './pair.ts'

const CLIENT = addr(0, 11)
const SERVER = addr(3300, 0)
const MON = { type: EntityType.MON, num: 0 }

function monPair (authClient?: Parameters<typeof end>[0]['authClient'], authServer?: Parameters<typeof end>[0]['authServer']) {
  const c = end({ policy: Policy.lossyClient({ featuresRequired: 0n }), addr: { ...CLIENT, port: 0, type: 3, ip: '' }, name: { type: EntityType.CLIENT, num: -1 }, authClient })
  const s = end({ policy: Policy.statelessServer(), addr: SERVER, name: MON, authServer })
  return { c, s }
}

test('auth none + crc: both sides open, the client learns the mon is lossy, messages flow with src and ack_seq', () => {
  const { c, s } = monPair()
  const l = connect(c, s, { peerType: EntityType.MON })
  assert.equal(l.client?.kind, 'ready')
  assert.deepEqual(l.server, { kind: 'open', reset: false, features: s.policy.featuresSupported & c.policy.featuresSupported })
  assert.ok(l.client?.kind === 'ready' && l.client.policy.lossy)
  assert.ok(l.client?.kind === 'ready' && l.client.peerName?.type === EntityType.MON)
  assert.equal((l.clientSource as V2FrameSource).dec.mode, 'crc')
  assert.deepEqual(c.steps.slice(0, 4), ['connect:start', 'write', 'read:v2', 'write'])
  assert.equal(c.session.connectSeq, 0, 'msgr2 counts connect_seq from 0 for a new session')
  // Two messages client → mon, then one back that acknowledges them in its header2.
  c.session.queue(msg(1))
  c.session.queue(msg(2))
  assert.ok(l.clientWriter !== undefined && l.serverWriter !== undefined)
  const atServer = receive(s, l.serverSource, send(c, l.clientWriter))
  assert.deepEqual(atServer.ids, [1, 2])
  assert.deepEqual(atServer.srcs.map((n) => n.type), [EntityType.CLIENT, EntityType.CLIENT])
  s.session.queue(msg(9))
  const atClient = receive(c, l.clientSource, send(s, l.serverWriter))
  assert.deepEqual(atClient.ids, [9])
  assert.deepEqual(atClient.frames.map((f) => f.kind), ['ack', 'msg'], 'the ack_seq of the message reaches the session first')
  assert.deepEqual(atClient.acks, [2])
  assert.deepEqual(atClient.srcs, [MON])
  // An ACK frame and keepalives map to the edge's kinds.
  l.serverWriter.ack(2)
  l.serverWriter.keepalive({ sec: 5, nsec: 6 })
  l.clientWriter.keepaliveAck({ sec: 5, nsec: 6 })
  assert.deepEqual(receive(c, l.clientSource, l.serverWriter.flush()).frames, [{ kind: 'ack', seq: 2 }, { kind: 'keepalive2', stamp: { sec: 5, nsec: 6 } }])
  assert.deepEqual(receive(s, l.serverSource, l.clientWriter.flush()).frames, [{ kind: 'keepalive2_ack', stamp: { sec: 5, nsec: 6 } }])
})

test('cephx + crc: the challenge round, AUTH_DONE in crc mode, HMAC signatures verified', () => {
  const env = cephxEnv('cephx-crc')
  const { c, s } = monPair(cephxClient(env.key, env.random, [ConMode.CRC]), env.server)
  const l = connect(c, s, { peerType: EntityType.MON })
  assert.equal(l.client?.kind, 'ready')
  assert.equal(l.server?.kind, 'open')
  assert.ok(c.traces.some((t) => t.what === 'auth done' && t.fields.conMode === ConMode.CRC))
  assert.equal((l.clientSource as V2FrameSource).dec.mode, 'crc')
  c.session.queue(msg(1))
  assert.ok(l.clientWriter !== undefined)
  assert.deepEqual(receive(s, l.serverSource, send(c, l.clientWriter)).ids, [1])
})

test('cephx + secure: both directions switch to AES-GCM at the right frame and messages decrypt', () => {
  const env = cephxEnv('cephx-secure')
  const { c, s } = monPair(cephxClient(env.key, env.random, [ConMode.SECURE, ConMode.CRC]), env.server)
  const l = connect(c, s, { peerType: EntityType.MON })
  assert.equal(l.client?.kind, 'ready')
  assert.equal(l.server?.kind, 'open')
  assert.equal((l.clientSource as V2FrameSource).dec.mode, 'secure')
  assert.equal((l.serverSource as V2FrameSource).dec.mode, 'secure')
  // The signatures and idents are ciphertext: no CLIENT_IDENT preamble (tag 8, 1 segment) in clear.
  const sig = l.c2s.find((b) => b.length === 96)
  assert.ok(sig !== undefined, 'a 32-byte AUTH_SIGNATURE takes 96 bytes in secure mode')
  assert.ok(!l.c2s.some((b) => b[0] === 8 && b[1] === 1), 'no plaintext CLIENT_IDENT')
  c.session.queue(msg(1))
  s.session.queue(msg(2))
  assert.ok(l.clientWriter !== undefined && l.serverWriter !== undefined)
  assert.deepEqual(receive(s, l.serverSource, send(c, l.clientWriter)).ids, [1])
  assert.deepEqual(receive(c, l.clientSource, send(s, l.serverWriter)).ids, [2])
})

test('a tampered byte (the client\'s banner, which has no crc) fails the AUTH_SIGNATURE check', () => {
  const env = cephxEnv('cephx-tamper')
  const { c, s } = monPair(cephxClient(env.key, env.random, [ConMode.CRC]), env.server)
  let first = true
  // Advertise COMPRESSION on the wire: harmless to the banner negotiation, fatal to the HMAC.
  const tamper = (b: Uint8Array): Uint8Array => {
    if (!first) return b
    first = false
    const t = b.slice()
    t[10] |= 0x02
    return t
  }
  assert.throws(() => connect(c, s, { tamperC2S: tamper }), (e: unknown) => e instanceof SignatureError)
})

test('AUTH_BAD_METHOD: the client moves on to a method the server allows, or gives up', () => {
  const env = cephxEnv('bad-method')
  const noneOnly = new MonAuthServer({ allowNone: true })
  const { c, s } = monPair(() => [cephxClient(env.key, env.random, [ConMode.CRC])(), new NoneAuthClient(ADMIN)], noneOnly)
  const l = connect(c, s)
  assert.equal(l.client?.kind, 'ready')
  assert.ok(c.traces.some((t) => t.what === 'auth bad method'))
  const { c: c2, s: s2 } = monPair(cephxClient(env.key, env.random, [ConMode.CRC]), noneOnly)
  assert.throws(() => connect(c2, s2), /REFUSED: peer refused auth method 2/)
})

test('the peer type is checked against HELLO', () => {
  const { c, s } = monPair()
  assert.throws(() => connect(c, s, { peerType: EntityType.OSD }), /PEER_ADDR_MISMATCH: dialled a osd, peer is a mon/)
})

test('IDENT_MISSING_FEATURES: the server refuses a client without a required feature', () => {
  const c = end({ policy: Policy.lossyClient({ featuresRequired: 0n, featuresSupported: 0x3f01cfbdfffdffffn & ~(1n << 40n) }), addr: CLIENT })
  const s = end({ policy: Policy.statelessServer({ featuresRequired: 1n << 40n }), addr: SERVER, name: MON })
  assert.throws(() => connect(c, s), /REFUSED: IDENT_MISSING_FEATURES: peer requires features we lack: 0x10000000000/)
})
