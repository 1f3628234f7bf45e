// The writer of an open connection: drains out_q through the protocol's SessionWriter into as
// few socket writes as it can, with ACKs and keepalives riding along. It owns what is owed to
// the peer besides messages (keepalive, keepalive ACKs, the ACK cadence) and the wake-ups.
import { Message } from '../../messages/message.ts'
import { AckCadence } from '../../protocol/ack.ts'
import { MessengerError, MessengerErrorCode } from '../../protocol/errors.ts'
import type { SessionWriter } from '../../protocol/wire-protocol.ts'
import { timespecNow } from '../../wire/encoder.ts'
import type { OutgoingMessage } from '../../wire/encoder.ts'
import type { EntityName } from '../../wire/entity-name.ts'
import type { Timespec } from '../../wire/frame.ts'
import type { Session } from '../../session/session.ts'
import type { MessengerConfig } from '../config.ts'
import { Signal } from '../signal.ts'
import type { MsgrSocket } from '../socket.ts'
import type { ConnectionCounters } from './counters.ts'

const EMPTY_BYTES = new Uint8Array(0)
/** KEEPALIVE2 stamps queued for an ACK at most (a peer flooding keepalives gets no more). */
const MAX_KEEPALIVE_ACKS = 16

/** What the writer needs of its connection. */
export interface WriterHost {
  readonly config: MessengerConfig
  readonly name: EntityName
  readonly session: Session<Message>
  readonly counters: ConnectionCounters
  /** Features both sides support (message payloads are encoded for them). */
  readonly features: bigint
  /** Still writing to this socket (it is the connection's, and the session is open). */
  writing: (sock: MsgrSocket) => boolean
  write: (sock: MsgrSocket, bufs: Uint8Array[]) => Promise<void> | undefined
  belowHighWater: () => boolean
  notifyDrain: () => void
}

export class Writer {
  private readonly signal = new Signal()
  private readonly cadence = new AckCadence()
  private keepalivePending = false
  private keepaliveAcks: Timespec[] = []
  /** Ends the wait for the end of the loop turn early (an ACK became due). */
  private ackWake: (() => void) | undefined
  /** Handshake bytes to send ahead of the first batch. */
  private tail: Uint8Array | undefined

  notify (): void {
    this.signal.notify()
  }

  get keepaliveOwed (): boolean {
    return this.keepalivePending
  }

  /** Send a keepalive (KEEPALIVE2 when the peer supports it). */
  requestKeepalive (): void {
    this.keepalivePending = true
    this.signal.notify()
  }

  /** The peer sent KEEPALIVE2: echo its stamp. */
  keepaliveAck (stamp: Timespec): void {
    if (this.keepaliveAcks.length < MAX_KEEPALIVE_ACKS) this.keepaliveAcks.push(stamp)
    this.signal.notify()
  }

  /** A message of `bytes` payload bytes was accepted on a lossless session: an ACK is owed. */
  accepted (session: Session<Message>, bytes: number): void {
    this.signal.notify()
    this.cadence.accepted(bytes)
    if (this.ackWake !== undefined && this.cadence.due(session.unacked)) this.ackWake()
  }

  /** Bytes the handshake left to send first. */
  setTail (tail: Uint8Array | undefined): void {
    this.tail = tail
  }

  async run (host: WriterHost, sock: MsgrSocket, sw: SessionWriter): Promise<unknown> {
    const cfg = host.config
    const session = host.session
    const c = host.counters
    let ackDeferred = false
    let sinceYield = 0
    const yieldBytes = cfg.writeBatchBytes
    // Lossy sessions keep nothing for replay: no window.
    const sendWindow = session.lossy ? 0 : cfg.sendWindowMessages
    // One scratch frame description for every message this writer encodes (no per-message objects).
    const out: OutgoingMessage = {
      header: { seq: 0, tid: 0, type: 0, priority: 0, version: 0, dataOff: 0, src: host.name, compatVersion: 0 },
      front: EMPTY_BYTES,
      middle: EMPTY_BYTES,
      data: EMPTY_BYTES
    }
    if (this.tail !== undefined) {
      sw.raw(this.tail)
      this.tail = undefined
    }
    while (host.writing(sock)) {
      if (this.keepalivePending) {
        this.keepalivePending = false
        sw.keepalive(timespecNow(cfg.timers.now()))
        c.keepalivesOut++
      }
      if (this.keepaliveAcks.length > 0) {
        for (const st of this.keepaliveAcks) sw.keepaliveAck(st)
        this.keepaliveAcks = []
      }
      if (!ackDeferred && sw.empty && session.outQ.length === 0 && session.hasAckPending && !this.cadence.due(session.unacked)) {
        // Only an ACK to send: wait a turn of the event loop so the reads of this turn (and any
        // reply the dispatcher is about to queue) share one ACK and one write. While the peer
        // keeps us reading, keep waiting until one is due (accepted() wakes us). Each ACK is a
        // write, and on loopback a write runs the peer's TCP receive path too: one per read
        // was ~10% of our receive CPU.
        const reads = c.reads
        await new Promise<void>((resolve) => {
          // Whichever comes first wakes us; the other must not resolve again (V8 reports every
          // second resolve to Node's promise hook, seen at ~1 % of the receiver's samples).
          const immediate = setImmediate(() => {
            this.ackWake = undefined
            resolve()
          })
          this.ackWake = () => {
            this.ackWake = undefined
            clearImmediate(immediate)
            resolve()
          }
        })
        this.ackWake = undefined
        ackDeferred = c.reads === reads || this.cadence.due(session.unacked)
        continue
      }
      ackDeferred = false
      const ack = session.takeAck()
      if (ack !== undefined) {
        sw.ack(ack)
        c.acksOut++
        this.cadence.sent()
      }
      while (sw.bytes < cfg.writeBatchBytes) {
        if (sendWindow > 0 && session.sentLength >= sendWindow) break
        const m = session.nextToSend()
        if (m === undefined) break
        if (!m.payloadEncoded) {
          m.payloadEncoded = true
          if (m.front.length === 0 && m.middle.length === 0 && m.data.length === 0) {
            m.encodePayload(host.features)
            if (m.compatVersion === 0 && m.constructor !== Message) m.compatVersion = m.version
          }
        }
        const h = out.header
        h.seq = m.seq
        h.tid = m.tid
        h.type = m.type
        h.priority = m.priority
        h.version = m.version
        h.dataOff = m.dataOff
        h.compatVersion = m.compatVersion
        out.front = m.front
        out.middle = m.middle
        out.data = m.data
        sw.message(out)
        c.msgsOut++
        c.bytesOut += m.payloadLength
      }
      if (session.sentLength > c.sentUnackedPeak) c.sentUnackedPeak = session.sentLength
      if (sw.empty) {
        host.notifyDrain()
        sw.release()
        const w = this.signal.wait()
        if (w !== undefined) await w
        continue
      }
      const bytes = sw.bytes
      const p = host.write(sock, sw.flush())
      if (host.belowHighWater()) host.notifyDrain()
      if (p !== undefined) {
        await p
        sinceYield = 0
      } else if ((sinceYield += bytes) >= yieldBytes) {
        // Writes that the kernel takes at once, and a sender refilling out_q from microtasks,
        // would keep this loop off the event loop for good: the peer's ACKs would go unread and
        // every sent message would stay live for replay. Let I/O run now and then.
        sinceYield = 0
        await new Promise<void>((resolve) => { setImmediate(resolve) })
      }
    }
    return new MessengerError(MessengerErrorCode.CLOSED, 'writer stopped')
  }
}
