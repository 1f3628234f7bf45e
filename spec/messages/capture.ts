// Test helper: walk the captured `ceph ping` byte streams (spec/fixtures/ceph-ping-v1/) with the
// fixed msgr v1 offsets and return each message as a raw Message. Deliberately independent of
// the streaming decoder in lib/wire/.
import { readFileSync } from 'node:fs'
import { Message } from '../../lib/messages/message.ts'

const FIXTURES = new URL('../fixtures/ceph-ping-v1/', import.meta.url)

/** banner 9 + our addr 136 + connect 33 + our in_seq 8 (after the server's TAG_SEQ). */
export const CLIENT_FRAMES_AT = 9 + 136 + 33 + 8
/** banner 9 + server addr 136 + client addr as seen 136 + connect_reply 26 + server in_seq 8. */
export const SERVER_FRAMES_AT = 9 + 136 + 136 + 26 + 8

const TAG_MSG = 7
const TAG_ACK = 8
const TAG_KEEPALIVE2 = 14
const TAG_KEEPALIVE2_ACK = 15
const HEADER_LEN = 53
const FOOTER_LEN = 21

export function readFixture (name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, FIXTURES)))
}

/** Split a v1 stream (from `at`, just after the handshake) into its messages. */
export function extractMessages (stream: Uint8Array, at: number): Message[] {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength)
  const out: Message[] = []
  let o = at
  while (o < stream.length) {
    const tag = stream[o++]
    if (tag === TAG_KEEPALIVE2 || tag === TAG_KEEPALIVE2_ACK || tag === TAG_ACK) {
      o += 8
      continue
    }
    if (tag !== TAG_MSG) throw new Error(`unexpected tag ${tag} at ${o - 1}`)
    const h = o
    const frontLen = view.getUint32(h + 22, true)
    const middleLen = view.getUint32(h + 26, true)
    const dataLen = view.getUint32(h + 30, true)
    let p = h + HEADER_LEN
    const front = stream.slice(p, p += frontLen)
    const middle = stream.slice(p, p += middleLen)
    const data = stream.slice(p, p += dataLen)
    const m = new Message({
      type: view.getUint16(h + 16, true),
      priority: view.getUint16(h + 18, true),
      version: view.getUint16(h + 20, true),
      compatVersion: view.getUint16(h + 45, true),
      tid: Number(view.getBigUint64(h + 8, true)),
      dataOff: view.getUint16(h + 34, true),
      src: { type: stream[h + 36], num: Number(view.getBigInt64(h + 37, true)) },
      front,
      middle,
      data
    })
    m.seq = Number(view.getBigUint64(h, true))
    out.push(m)
    o = p + FOOTER_LEN
  }
  if (o !== stream.length) throw new Error(`stream ends mid-frame (${o} of ${stream.length})`)
  return out
}

export function clientMessages (): Message[] {
  return extractMessages(readFixture('client-to-mon.bin'), CLIENT_FRAMES_AT)
}

export function serverMessages (): Message[] {
  return extractMessages(readFixture('mon-to-client.bin'), SERVER_FRAMES_AT)
}
