// v2's SessionWriter: the open session's frames through the socket's encoder (crc or secure, as
// the handshake left it). A message becomes a MESSAGE frame whose header2 carries ack_seq = our
// in_seq, so acknowledgements ride on messages; ack() is an ACK frame; keepalives are KEEPALIVE2
// and KEEPALIVE2_ACK. Crc options do not apply: msgr2 always checks its frames.
import { Tag } from '../../wire-v2/constants.ts'
import { encodeControl } from '../../wire-v2/frames.ts'
import { messageSegments } from '../../wire-v2/message.ts'
import type { OutgoingMessage } from '../../wire/encoder.ts'
import type { Timespec } from '../../wire/frame.ts'
import type { Session, Sequenced } from '../../session/session.ts'
import type { SessionWriter } from '../wire-protocol.ts'
import type { V2Link } from './link.ts'

/** ceph_msg_footer flags Ceph puts in header2: COMPLETE | NOCRC (the frame has the crcs). */
const MSG_FLAGS = 0x3

export class SessionWriterV2 implements SessionWriter {
  private bufs: Uint8Array[] = []
  private n = 0
  private readonly link: V2Link
  private readonly session: Session<Sequenced>

  constructor (link: V2Link, session: Session<Sequenced>, _features: bigint, _crc: { crcHeader: boolean, crcData: boolean }) {
    this.link = link
    this.session = session
  }

  get bytes (): number { return this.n }
  get empty (): boolean { return this.bufs.length === 0 }

  private add (bs: Uint8Array[]): void {
    for (const b of bs) {
      this.bufs.push(b)
      this.n += b.length
    }
  }

  raw (b: Uint8Array): void { this.add([b]) }

  message (m: OutgoingMessage): void {
    const h = m.header
    const session = this.session
    const segs = messageSegments({
      header: {
        seq: h.seq,
        tid: h.tid,
        type: h.type,
        priority: h.priority,
        version: h.version,
        dataPrePaddingLen: 0,
        dataOff: h.dataOff,
        ackSeq: session.inSeq,
        flags: MSG_FLAGS,
        compatVersion: h.compatVersion,
        reserved: h.reserved ?? 0
      },
      front: m.front,
      middle: m.middle,
      data: m.data
    })
    this.add(this.link.enc.encode(Tag.MESSAGE, segs))
    // The peer now knows our in_seq: no separate ACK is owed for it.
    session.inSeqToldPeer()
  }

  ack (seq: number): void {
    this.add(this.link.enc.encode(Tag.ACK, [encodeControl({ tag: Tag.ACK, seq: BigInt(seq) })]))
  }

  keepalive (stamp: Timespec): void {
    this.add(this.link.enc.encode(Tag.KEEPALIVE2, [encodeControl({ tag: Tag.KEEPALIVE2, stamp })]))
  }

  keepaliveAck (stamp: Timespec): void {
    this.add(this.link.enc.encode(Tag.KEEPALIVE2_ACK, [encodeControl({ tag: Tag.KEEPALIVE2_ACK, stamp })]))
  }

  flush (): Uint8Array[] {
    const out = this.bufs
    this.bufs = []
    this.n = 0
    return out
  }

  release (): void {
    this.bufs = []
    this.n = 0
  }
}
