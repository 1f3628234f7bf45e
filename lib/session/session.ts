// The state of one session with a peer, kept across TCP connections: sequence numbers, the
// outgoing queue, the messages sent but not yet acknowledged, and what we owe the peer an ACK
// for. Sans-IO: the connection asks it what to write and tells it what arrived.
import { Priority } from '../wire/constants.ts'
import { OutQueue } from './out-queue.ts'
import { Ring } from './ring.ts'
import type { Sized } from './out-queue.ts'

export interface Sequenced extends Sized {
  /** 0 until first written; then the seq it was sent with (kept across requeues). */
  seq: number
}

export type Incoming = 'accept' | 'duplicate'

export class Session<M extends Sequenced> {
  /** Seq of the last message we wrote. */
  outSeq = 0
  /** Seq of the last message we accepted from the peer. */
  inSeq = 0
  /** The in_seq we last told the peer in an ACK (or the SEQ exchange). */
  inSeqAcked = 0
  connectSeq = 0
  peerGlobalSeq = 0
  readonly outQ = new OutQueue<M>()
  /** Written but not yet acknowledged (lossless only), oldest first. */
  private readonly sent = new Ring<M>()
  /** Lossy sessions keep nothing for replay and send no ACKs. */
  lossy: boolean

  constructor (lossy: boolean) {
    this.lossy = lossy
  }

  get sentLength (): number {
    return this.sent.length
  }

  /** Payload bytes written but not yet acknowledged (kept as a running total). */
  sentBytes = 0

  queue (m: M): void {
    this.outQ.push(m)
  }

  /** The next message to write, with its seq assigned; kept for replay unless lossy. */
  nextToSend (): M | undefined {
    const m = this.outQ.shift()
    if (m === undefined) return undefined
    m.seq = ++this.outSeq
    if (!this.lossy) {
      this.sent.push(m)
      this.sentBytes += m.payloadLength
    }
    return m
  }

  /** The peer has everything up to `seq`: forget those. Returns how many were trimmed. */
  handleAck (seq: number): number {
    let n = 0
    const sent = this.sent
    while (sent.length > 0 && (sent.peek() as M).seq <= seq) {
      this.sentBytes -= (sent.shift() as M).payloadLength
      n++
    }
    return n
  }

  /** After a fault: unacknowledged messages go back to the front of out_q at HIGHEST, in order. */
  requeueSent (): number {
    const ms = this.sent.drain()
    this.sentBytes = 0
    if (ms.length === 0) return 0
    this.outQ.unshiftAll(ms, Priority.HIGHEST)
    // They will be written again with the same seqs.
    this.outSeq -= ms.length
    return ms.length
  }

  /** TAG_SEQ told us the peer has everything up to `seq`: drop those requeued messages. */
  discardRequeuedUpTo (seq: number): number {
    let n = 0
    while (true) {
      const m = this.outQ.peekAt(Priority.HIGHEST)
      if (m === undefined || m.seq === 0 || m.seq > seq) break
      this.outQ.shiftAt(Priority.HIGHEST)
      this.outSeq++
      n++
    }
    return n
  }

  /** A message arrived with `seq`: accept it, or recognise a duplicate of one we already took. */
  receive (seq: number): Incoming {
    if (seq <= this.inSeq) return 'duplicate'
    this.inSeq = seq
    return 'accept'
  }

  /** The seq to ACK, if the peer has not been told about everything we took. */
  takeAck (): number | undefined {
    if (this.lossy || this.inSeq <= this.inSeqAcked) return undefined
    this.inSeqAcked = this.inSeq
    return this.inSeq
  }

  /** Messages taken but not yet acknowledged to the peer. */
  get unacked (): number {
    return this.lossy ? 0 : this.inSeq - this.inSeqAcked
  }

  get hasAckPending (): boolean {
    return !this.lossy && this.inSeq > this.inSeqAcked
  }

  /**
   * The peer lost our session (RESETSESSION, or it reconnected from scratch): drop everything
   * queued and sent, restart both sequences. Returns the dropped messages.
   */
  reset (randomStart: number): M[] {
    const dropped = this.outQ.clear()
    for (const m of this.sent.drain()) dropped.push(m)
    this.sentBytes = 0
    this.inSeq = 0
    this.inSeqAcked = 0
    this.outSeq = randomStart
    this.connectSeq = 0
    return dropped
  }

  /** Messages still owed to the peer: queued or unacknowledged. */
  get pending (): number {
    return this.outQ.length + this.sentLength
  }

  /** Payload bytes still owed to the peer: queued or unacknowledged. */
  get pendingBytes (): number {
    return this.outQ.bytes + this.sentBytes
  }
}
