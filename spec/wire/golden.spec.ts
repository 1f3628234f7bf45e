// The real `ceph ping mon.a` over msgr v1 (Ceph 16.2 client and mon), decoded completely.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { EntityType, FooterFlag, MsgType, Priority, Tag } from '../../lib/wire/constants.ts'
import { decodeConversation } from '../../lib/wire/conversation.ts'
import { crc32c } from '../../lib/wire/crc32c.ts'
import { FrameDecoder } from '../../lib/wire/decoder.ts'
import { encodeFrame } from '../../lib/wire/encoder.ts'
import { AF_INET, AddrType } from '../../lib/wire/entity-addr.ts'
import { Feature, PACIFIC_SUPPORTED } from '../../lib/wire/features.ts'
import type { Frame, MsgFrame } from '../../lib/wire/frame.ts'
import { encodeHeader } from '../../lib/wire/header.ts'
import { CLIENT_AT, SERVER_AT, clientBytes, concat, decodeChunks, serverBytes, splitAt } from './fixture.ts'

const STAMP = { sec: 1795629123, nsec: 684193572 }
const CLIENT_NONCE = 0xc78e4636

function msgs (frames: Frame[]): MsgFrame[] {
  return frames.filter((f): f is MsgFrame => f.kind === 'msg')
}

/** Every crc of a message recomputed here, independently of the decoder's checks. */
function assertCrcs (m: MsgFrame): void {
  assert.equal(crc32c(encodeHeader(m.header, false).subarray(0, 49)), m.header.crc, 'header crc')
  assert.equal(crc32c(m.front), m.footer.frontCrc, 'front crc')
  assert.equal(crc32c(m.middle), m.footer.middleCrc, 'middle crc')
  assert.equal(crc32c(m.data), m.footer.dataCrc, 'data crc')
  assert.equal(m.footer.flags, FooterFlag.COMPLETE)
  assert.equal(m.footer.sig, 0n)
  assert.equal(m.dataCrcChecked, true)
}

function assertClientStream (frames: Frame[]): void {
  assert.deepEqual(frames.map((f) => f.kind), ['banner', 'addr', 'connect', 'seq', 'keepalive2', 'msg', 'msg'])
  const [, addr, connect, seq, ka] = frames
  assert.deepEqual(addr, {
    kind: 'addr', which: 'self', addr: { type: AddrType.LEGACY, nonce: CLIENT_NONCE, family: AF_INET, ip: '127.0.0.1', port: 0 }
  })
  assert.ok(connect.kind === 'connect')
  assert.deepEqual(connect.connect, {
    features: 0x3f01cfbdfffdffffn,
    hostType: EntityType.CLIENT,
    globalSeq: 1,
    connectSeq: 0,
    protocolVersion: 15,
    authorizerProtocol: 0,
    authorizerLen: 0,
    flags: 0,
    authorizer: new Uint8Array(0)
  })
  assert.deepEqual(seq, { kind: 'seq', seq: 0 })
  assert.deepEqual(ka, { kind: 'keepalive2', stamp: STAMP })

  const [auth, ping] = msgs(frames)
  const clientSrc = { type: EntityType.CLIENT, num: -1 }
  assert.deepEqual({ ...auth.header, crc: 0 }, {
    seq: 1, tid: 0, type: MsgType.AUTH, priority: Priority.DEFAULT, version: 1, frontLen: 55, middleLen: 0, dataLen: 0,
    dataOff: 0, src: clientSrc, compatVersion: 1, reserved: 0, crc: 0
  })
  assert.equal(auth.header.crc, 0xfac4846b)
  assert.equal(auth.front.length, 55)
  // MAuth front (fact sheet §6.3): paxos version 0, session mon -1, tid 0, protocol 0, payload of 25, epoch 0.
  const dv = new DataView(auth.front.buffer, auth.front.byteOffset, auth.front.length)
  assert.equal(dv.getBigUint64(0, true), 0n)
  assert.equal(dv.getInt16(8, true), -1)
  assert.equal(dv.getBigUint64(10, true), 0n)
  assert.equal(dv.getUint32(18, true), 0)
  assert.equal(dv.getUint32(22, true), 25)
  assert.equal(dv.getUint32(51, true), 0)
  assert.deepEqual({ ...ping.header, crc: 0 }, {
    seq: 2, tid: 0, type: MsgType.PING, priority: Priority.DEFAULT, version: 1, frontLen: 0, middleLen: 0, dataLen: 0,
    dataOff: 0, src: clientSrc, compatVersion: 1, reserved: 0, crc: 0
  })
  assert.equal(ping.front.length + ping.middle.length + ping.data.length, 0)
  for (const m of [auth, ping]) assertCrcs(m)
}

function assertServerStream (frames: Frame[]): void {
  assert.deepEqual(frames.map((f) => f.kind), ['banner', 'addr', 'addr', 'connect_reply', 'seq', 'keepalive2_ack', 'msg', 'msg', 'msg'])
  const [, self, peer, reply, seq, kaAck] = frames
  assert.deepEqual(self, {
    kind: 'addr', which: 'self', addr: { type: AddrType.LEGACY, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 6789 }
  })
  assert.deepEqual(peer, {
    kind: 'addr', which: 'peer', addr: { type: AddrType.LEGACY, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 56906 }
  })
  assert.ok(reply.kind === 'connect_reply')
  assert.deepEqual(reply.reply, {
    tag: Tag.SEQ,
    features: 0x3f01cfbdfffdffffn,
    globalSeq: 18,
    connectSeq: 1,
    protocolVersion: 15,
    authorizerLen: 0,
    flags: 1, // CEPH_MSG_CONNECT_LOSSY: the mon's policy for clients
    authorizer: new Uint8Array(0)
  })
  assert.deepEqual(seq, { kind: 'seq', seq: 0 })
  // The mon echoes the client's KEEPALIVE2 stamp.
  assert.deepEqual(kaAck, { kind: 'keepalive2_ack', stamp: STAMP })

  const [authReply, monmap, pong] = msgs(frames)
  const mon0 = { type: EntityType.MON, num: 0 }
  const common = { tid: 0, priority: Priority.HIGH, version: 1, middleLen: 0, dataLen: 0, dataOff: 0, src: mon0, reserved: 0, crc: 0 }
  assert.deepEqual({ ...authReply.header, crc: 0 }, { ...common, seq: 1, type: MsgType.AUTH_REPLY, frontLen: 24, compatVersion: 1 })
  assert.deepEqual({ ...monmap.header, crc: 0 }, { ...common, seq: 2, type: MsgType.MON_MAP, frontLen: 205, compatVersion: 1 })
  assert.deepEqual({ ...pong.header, crc: 0 }, { ...common, seq: 3, type: MsgType.PING, frontLen: 3284, compatVersion: 0 })

  // MAuthReply (§6.4): protocol 1 (none), result 0, global_id 4112, empty result_bl and result_msg.
  const ar = new DataView(authReply.front.buffer, authReply.front.byteOffset, authReply.front.length)
  assert.deepEqual([ar.getUint32(0, true), ar.getInt32(4, true), ar.getBigUint64(8, true), ar.getUint32(16, true), ar.getUint32(20, true)], [1, 0, 4112n, 0, 0])
  // The pong front is one std::string: the JSON the real CLI printed (plus its trailing newline).
  const pv = new DataView(pong.front.buffer, pong.front.byteOffset, pong.front.length)
  assert.equal(pv.getUint32(0, true), 3280)
  const text = new TextDecoder().decode(pong.front.subarray(4))
  const printed = readFileSync(new URL('../fixtures/ceph-ping-v1/ceph-ping-v1.stdout.json', import.meta.url), 'utf8')
  assert.equal(text + '\n', printed)
  for (const m of [authReply, monmap, pong]) assertCrcs(m)
}

describe('golden: real ceph ping over msgr v1', () => {
  it('decodeConversation yields both directions in causal order', () => {
    const all = [...decodeConversation(clientBytes, serverBytes)]
    assert.deepEqual(all.map((f) => `${f.from} ${f.frame.kind} @${f.offset}`), [
      'client banner @0',
      'server banner @0',
      'server addr @9',
      'server addr @145',
      'client addr @9',
      'client connect @145',
      'server connect_reply @281',
      'server seq @307',
      'client seq @178',
      'client keepalive2 @186',
      'client msg @195',
      'client msg @325',
      'server keepalive2_ack @315',
      'server msg @324',
      'server msg @423',
      'server msg @703'
    ])
    assertClientStream(all.filter((f) => f.from === 'client').map((f) => f.frame))
    assertServerStream(all.filter((f) => f.from === 'server').map((f) => f.frame))
  })

  it('the client-role decoder decodes the mon\'s bytes, as a connecting session would', () => {
    const dec = new FrameDecoder({ role: 'client' })
    dec.push(serverBytes)
    const frames: Frame[] = []
    const phases: string[] = []
    for (let f = dec.next(); f !== undefined; f = dec.next()) { frames.push(f); phases.push(dec.phase) }
    assert.deepEqual(phases, ['self_addr', 'peer_addr', 'connect_reply', 'seq', 'tags', 'tags', 'tags', 'tags', 'tags'])
    dec.end()
    assert.equal(dec.offset, serverBytes.length)
    // Our features (Pacific's) AND the mon's: MSG_AUTH is in, so 21-byte footers.
    assert.equal(dec.negotiatedFeatures, PACIFIC_SUPPORTED)
    assert.ok((dec.negotiatedFeatures & Feature.MSG_AUTH) !== 0n)
    assertServerStream(frames)
  })

  it('the server-role decoder decodes the client\'s bytes, pausing after the connect until expect()', () => {
    const dec = new FrameDecoder({ role: 'server' })
    // Bytes arrive as the client wrote them: banner+addr, connect, then the rest after our reply.
    dec.push(clientBytes.subarray(0, CLIENT_AT.connect))
    const hello = dec.drain()
    assert.deepEqual(hello.map((f) => f.kind), ['banner', 'addr'])
    dec.push(clientBytes.subarray(CLIENT_AT.connect, CLIENT_AT.seq))
    const [connect] = dec.drain()
    assert.equal(connect.kind, 'connect')
    assert.equal(dec.phase, 'paused')
    dec.push(clientBytes.subarray(CLIENT_AT.seq))
    assert.equal(dec.next(), undefined, 'paused until the session has answered')
    assert.equal(dec.negotiatedFeatures, PACIFIC_SUPPORTED)
    dec.expect('seq') // we replied TAG_SEQ
    const rest = dec.drain()
    dec.end()
    assert.equal(dec.offset, clientBytes.length)
    assertClientStream([...hello, connect, ...rest])
    // The same, driven by the shared helper in 7-byte chunks.
    assertClientStream(decodeChunks('server', splitAt(clientBytes, Array.from({ length: 60 }, (_, i) => i * 7))))
  })

  it('re-encoding every frame reproduces both streams byte for byte', () => {
    const parts: Record<'client' | 'server', Uint8Array[]> = { client: [], server: [] }
    for (const { from, frame } of decodeConversation(clientBytes, serverBytes)) {
      parts[from].push(...encodeFrame(frame, true))
    }
    assert.deepEqual(concat(parts.client), clientBytes)
    assert.deepEqual(concat(parts.server), serverBytes)
  })

  it('each frame re-encodes to exactly its own bytes at its offset', () => {
    const all = [...decodeConversation(clientBytes, serverBytes)]
    for (const { from, frame, offset } of all) {
      const bytes = concat(encodeFrame(frame, true))
      const stream = from === 'client' ? clientBytes : serverBytes
      assert.deepEqual(bytes, stream.subarray(offset, offset + bytes.length), `${from} ${frame.kind} @${offset}`)
    }
    assert.equal(SERVER_AT.pong + 1 + 53 + 3284 + 21, serverBytes.length)
    assert.equal(CLIENT_AT.mping + 1 + 53 + 21, clientBytes.length)
  })
})
