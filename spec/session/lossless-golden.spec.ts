// Real mon-to-mon v1 traffic (Ceph 16.2.15, lossless_peer_reuse): decode every stream completely,
// then put a real ceph-msgr Connection in the place of mon.a and replay mon.b's / mon.c's bytes to
// it. It must write exactly the bytes mon.a wrote: the same connect_seq / global_seq decisions,
// the same in_seq in the SEQ exchange, and the same replayed messages after a reconnect.
// See spec/fixtures/ceph-v1-lossless/NOTES.md for the timeline behind each stream.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { Message } from '../../lib/messages/message.ts'
import type { Connection } from '../../lib/messenger/connection.ts'
import { MemoryMessenger } from '../../lib/messenger/memory-messenger.ts'
import type { MsgrSocket } from '../../lib/messenger/socket.ts'
import { Policy } from '../../lib/session/policy.ts'
import { Session } from '../../lib/session/session.ts'
import { EntityType, Tag, tagName } from '../../lib/wire/constants.ts'
import { decodeConversation } from '../../lib/wire/conversation.ts'
import { FrameDecoder } from '../../lib/wire/decoder.ts'
import type { MsgFrame } from '../../lib/wire/frame.ts'
import { ReplaySocket } from '../support/replay-socket.ts'

const dir = new URL('../fixtures/ceph-v1-lossless/', import.meta.url)
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)))

function summarize (client: Uint8Array, server: Uint8Array): { connects: string[], replies: string[], seqs: number[], msgs: number, acks: number } {
  const out = { connects: [] as string[], replies: [] as string[], seqs: [] as number[], msgs: 0, acks: 0 }
  for (const { frame: f } of decodeConversation(client, server)) {
    if (f.kind === 'connect') out.connects.push(`g${f.connect.globalSeq} c${f.connect.connectSeq}`)
    if (f.kind === 'connect_reply') out.replies.push(`${tagName(f.reply.tag)}(g${f.reply.globalSeq} c${f.reply.connectSeq})`)
    if (f.kind === 'seq') out.seqs.push(f.seq)
    if (f.kind === 'msg') out.msgs++
    if (f.kind === 'ack') out.acks++
  }
  return out
}

test('every recorded mon↔mon stream decodes completely, every crc verifies, handshakes as the capture notes say', () => {
  const s2 = summarize(load('STREAM2-b-to-a.bin'), load('STREAM2-a-to-b.bin'))
  assert.deepEqual(s2.replies, ['WAIT(g0 c0)'])
  const s10 = summarize(load('STREAM10-a-to-b.bin'), load('STREAM10-b-to-a.bin'))
  assert.deepEqual(s10.connects, ['g7 c1', 'g7 c2', 'g8 c2'])
  assert.deepEqual(s10.replies, ['RETRY_SESSION(g0 c2)', 'RETRY_GLOBAL(g6 c0)', 'SEQ(g8 c3)'])
  assert.deepEqual(s10.seqs, [152, 137])
  const s11 = summarize(load('STREAM11-a-to-c.bin'), load('STREAM11-c-to-a.bin'))
  assert.deepEqual(s11.connects, ['g9 c2', 'g10 c2'])
  assert.deepEqual(s11.replies, ['RETRY_GLOBAL(g5 c0)', 'SEQ(g8 c3)'])
  assert.deepEqual(s11.seqs, [128, 111])
  const r9 = summarize(load('resetsession-STREAM9-a-to-b.bin'), load('resetsession-STREAM9-b-to-a.bin'))
  assert.deepEqual(r9.connects, ['g5 c1', 'g5 c0', 'g6 c0'])
  assert.deepEqual(r9.replies, ['RESETSESSION(g0 c0)', 'RETRY_GLOBAL(g0 c0)', 'SEQ(g11 c1)'])
  assert.ok(s10.msgs > 100 && s10.acks > 100, 'the long streams carry many MSGs and ACKs')
})

test('stream 7 (the original a→c session): a acked up to 128, so 129..131 are never acked', () => {
  // Drive a's session with the stream: its sends from a→c, c's ACKs from c→a.
  const s = new Session<{ seq: number, priority: number, payloadLength: number }>(false)
  let acks = 0
  for (const { from, frame: f } of decodeConversation(load('STREAM7-a-to-c.bin'), load('STREAM7-c-to-a.bin'))) {
    if (from === 'client' && f.kind === 'msg') {
      s.queue({ seq: 0, priority: f.header.priority, payloadLength: f.front.length })
      assert.equal(s.nextToSend()?.seq, f.header.seq, 'a numbers its messages 1, 2, 3, ...')
    }
    if (from === 'server' && f.kind === 'ack') { s.handleAck(f.seq); acks++ }
  }
  assert.equal(s.outSeq, 131)
  assert.equal(s.sentLength, 3, '129..131 are still unacknowledged when the socket dies')
  assert.ok(acks > 90)
  // The fault: they go back to out_q and, after stream 11's SEQ(128), all three are resent.
  assert.equal(s.requeueSent(), 3)
  assert.equal(s.discardRequeuedUpTo(128), 0)
  assert.deepEqual([s.nextToSend()?.seq, s.nextToSend()?.seq, s.nextToSend()?.seq], [129, 130, 131])
})

interface Preset {
  name: string
  clientBytes: Uint8Array
  serverBytes: Uint8Array
  /** Where the client's handshake ends in its own stream (bytes we must reproduce exactly). */
  compareUpTo: number
  gseqBefore: number
  connectSeq: number
  inSeq: number
  outSeq: number
  peerPort: number
  sent?: Message[]
  queued?: Message[]
}

/** A Connection playing mon.a (v1:127.0.0.1:16789, nonce 0, rank 0) against recorded peer bytes. */
interface Snapshot { connectSeq: number, peerGlobalSeq: number, outSeq: number, inSeq: number, msgsOut: number }

async function replayAsMonA (p: Preset): Promise<{ sock: ReplaySocket, conn: Connection, events: string[], state: Snapshot }> {
  let sock: ReplaySocket | undefined
  class Replaying extends MemoryMessenger {
    protected override async dialSocket (): Promise<MsgrSocket> {
      sock = new ReplaySocket(p.serverBytes, { ip: '127.0.0.1', port: 40000, family: 4 }, { ip: '127.0.0.1', port: p.peerPort, family: 4 })
      return sock
    }
  }
  const m = new Replaying({ name: 'mon.0', entityId: 'a', nonce: 0, policy: Policy.losslessPeerReuse() })
  await m.bind(`v1:127.0.0.1:16789`)
  const events: string[] = []
  let connected: () => void = () => {}
  const ready = new Promise<void>((resolve) => { connected = resolve })
  m.addDispatcherTail({
    msHandleConnect: () => { events.push('connect'); connected() },
    msHandleRemoteReset: () => { events.push('remoteReset') }
  })
  m.start()
  m.nextGlobalSeq(p.gseqBefore - 2)
  const conn = m.connectTo(EntityType.MON, `v1:127.0.0.1:${p.peerPort}`)
  const s = conn.session
  s.restore({ connectSeq: p.connectSeq, inSeq: p.inSeq, outSeq: p.outSeq })
  for (const msg of p.sent ?? []) { s.queue(msg); s.nextToSend() }
  s.requeueSent()
  for (const msg of p.queued ?? []) conn.send(msg)
  await ready
  // Let the writer flush what it has.
  await new Promise((resolve) => setTimeout(resolve, 50))
  const state = { connectSeq: s.connectSeq, peerGlobalSeq: s.peerGlobalSeq, outSeq: s.outSeq, inSeq: s.inSeq, msgsOut: conn.counters.msgsOut }
  await m.shutdown(0)
  return { sock: sock as ReplaySocket, conn, events, state }
}

test('replay stream 10: standby reconnect → RETRY_SESSION → RETRY_GLOBAL → SEQ(152); we write a\'s exact bytes', async () => {
  const clientBytes = load('STREAM10-a-to-b.bin')
  const { sock, state } = await replayAsMonA({
    name: 's10', clientBytes, serverBytes: load('STREAM10-b-to-a.bin').subarray(0, 367), compareUpTo: 306,
    gseqBefore: 7, connectSeq: 1, inSeq: 137, outSeq: 152, peerPort: 16790
  })
  assert.deepEqual(Buffer.from(sock.bytes.subarray(0, 306)), Buffer.from(clientBytes.subarray(0, 306)))
  assert.equal(state.connectSeq, 3, 'client_ready: connect_seq = reply connect_seq')
  assert.equal(state.peerGlobalSeq, 8)
  assert.equal(state.outSeq, 152, 'nothing to resend: "got newly_acked_seq 152 vs out_seq 152"')
})

test('replay stream 11: reconnect, SEQ says in_seq 128, a resends 129..131 byte-identical to their first sends', async () => {
  // The three never-acked messages, as first sent on stream 7.
  const first = load('STREAM7-a-to-c.bin').subarray(346518)
  const dec = new FrameDecoder({ role: 'client', phase: 'tags', msgAuth: true })
  dec.push(first)
  const frames = dec.drain().filter((f): f is MsgFrame => f.kind === 'msg')
  assert.deepEqual(frames.map((f) => f.header.seq), [129, 130, 131])
  const msgs = frames.map((f) => {
    const h = f.header
    return new Message({ type: h.type, priority: h.priority, version: h.version, compatVersion: h.compatVersion, tid: h.tid, dataOff: h.dataOff, front: f.front.slice(), middle: f.middle.slice(), data: f.data.slice() })
  })
  const clientBytes = load('STREAM11-a-to-c.bin')
  const { sock, state } = await replayAsMonA({
    name: 's11', clientBytes, serverBytes: load('STREAM11-c-to-a.bin').subarray(0, 341), compareUpTo: 255,
    gseqBefore: 9, connectSeq: 2, inSeq: 111, outSeq: 128, peerPort: 16791, sent: msgs
  })
  // Handshake (banner, addr, connect g9 c2, connect g10 c2, in_seq 111) and then the replay.
  assert.deepEqual(Buffer.from(sock.bytes.subarray(0, 903)), Buffer.from(clientBytes.subarray(0, 903)))
  assert.equal(state.connectSeq, 3)
  assert.equal(state.msgsOut, 3)
})

test('replay capture 2 stream 9: RESETSESSION → the session is reset, queued messages dropped, remote reset reported', async () => {
  const clientBytes = load('resetsession-STREAM9-a-to-b.bin')
  const lost = new Message({ type: 0x1234, front: new Uint8Array([1, 2, 3]) })
  const { sock, state, events } = await replayAsMonA({
    name: 'r9', clientBytes, serverBytes: load('resetsession-STREAM9-b-to-a.bin').subarray(0, 367), compareUpTo: 306,
    gseqBefore: 5, connectSeq: 1, inSeq: 14, outSeq: 17, peerPort: 16790, queued: [lost]
  })
  assert.deepEqual(Buffer.from(sock.bytes.subarray(0, 306)), Buffer.from(clientBytes.subarray(0, 306)))
  assert.ok(events.includes('remoteReset'))
  assert.equal(state.inSeq, 0)
  assert.equal(state.msgsOut, 0, 'the message queued during the outage is dropped, not resent')
  assert.equal(state.connectSeq, 1)
})

void Tag
