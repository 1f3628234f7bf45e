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

/** A session saved elsewhere (a test, a replay of recorded traffic) to resume from. */
export interface SessionSnapshot {
  connectSeq: number
  inSeq: number
  outSeq: number
}

export class Session<M extends Sequenced> {
  private _outSeq = 0
  private _inSeq = 0
  private _inSeqAcked = 0
  private _connectSeq = 0
  private _peerGlobalSeq = 0
  private _lossy: boolean
  readonly outQ = new OutQueue<M>()
  /** Written but not yet acknowledged (lossless only), oldest first. */
  private readonly sent = new Ring<M>()

  constructor (lossy: boolean) {
    this._lossy = lossy
  }

  /** Seq of the last message we wrote. */
  get outSeq (): number { return this._outSeq }
  /** Seq of the last message we accepted from the peer (Ceph's in_seq). */
  get inSeq (): number { return this._inSeq }
  /** The in_seq we last told the peer, in an ACK or during a handshake. */
  get inSeqAcked (): number { return this._inSeqAcked }
  /** How many times this session has been (re)connected, as both ends count it. */
  get connectSeq (): number { return this._connectSeq }
  /** The peer's global_seq from its last handshake. */
  get peerGlobalSeq (): number { return this._peerGlobalSeq }
  /** Lossy sessions keep nothing for replay and send no ACKs. */
  get lossy (): boolean { return this._lossy }

  // ---- handshake transitions ----------------------------------------------------------------

  /** The peer told us (RETRY_SESSION) to reconnect with a higher connect_seq. False if it is not higher. */
  retrySession (connectSeq: number): boolean {
    if (connectSeq <= this._connectSeq) return false
    this._connectSeq = connectSeq
    return true
  }

  /**
   * Client side: the server opened the session (READY or SEQ). connect_seq advances by one and
   * must then equal the server's; the server knows our in_seq from the handshake.
   * Returns false on a connect_seq mismatch (the handshake must fail).
   */
  clientOpened (peerGlobalSeq: number, lossy: boolean, replyConnectSeq: number): boolean {
    this._peerGlobalSeq = peerGlobalSeq
    this._lossy = lossy
    this._connectSeq++
    if (this._connectSeq !== replyConnectSeq) return false
    this._inSeqAcked = this._inSeq
    return true
  }

  /** Server side: we open (or take over) the session for a client connect. */
  serverOpened (peerConnectSeq: number, peerGlobalSeq: number): void {
    this._connectSeq = peerConnectSeq + 1
    this._peerGlobalSeq = peerGlobalSeq
  }

  /** The handshake told the peer our in_seq (SEQ exchange, READY): nothing is owed an ACK. */
  inSeqToldPeer (): void {
    this._inSeqAcked = this._inSeq
  }

  /** An open session faulted and we reconnect: the next attempt carries connect_seq + 1. */
  faultReconnect (): void {
    this._connectSeq++
  }

  /** Resume a session saved elsewhere (replaying recorded traffic from the middle of a session). */
  restore (s: SessionSnapshot): void {
    this._connectSeq = s.connectSeq
    this._inSeq = this._inSeqAcked = s.inSeq
    this._outSeq = s.outSeq
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
    m.seq = ++this._outSeq
    if (!this._lossy) {
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
    this._outSeq -= ms.length
    return ms.length
  }

  /** TAG_SEQ told us the peer has everything up to `seq`: drop those requeued messages. */
  discardRequeuedUpTo (seq: number): number {
    let n = 0
    while (true) {
      const m = this.outQ.peekAt(Priority.HIGHEST)
      if (m === undefined || m.seq === 0 || m.seq > seq) break
      this.outQ.shiftAt(Priority.HIGHEST)
      this._outSeq++
      n++
    }
    return n
  }

  /** A message arrived with `seq`: accept it, or recognise a duplicate of one we already took. */
  receive (seq: number): Incoming {
    if (seq <= this._inSeq) return 'duplicate'
    this._inSeq = seq
    return 'accept'
  }

  /** The seq to ACK, if the peer has not been told about everything we took. */
  takeAck (): number | undefined {
    if (this._lossy || this._inSeq <= this._inSeqAcked) return undefined
    this._inSeqAcked = this._inSeq
    return this._inSeq
  }

  /** Messages taken but not yet acknowledged to the peer. */
  get unacked (): number {
    return this._lossy ? 0 : this._inSeq - this._inSeqAcked
  }

  get hasAckPending (): boolean {
    return !this._lossy && this._inSeq > this._inSeqAcked
  }

  /**
   * The peer lost our session (RESETSESSION, or it reconnected from scratch): drop everything
   * queued and sent, restart both sequences. Returns the dropped messages.
   */
  reset (randomStart: number): M[] {
    const dropped = this.outQ.clear()
    for (const m of this.sent.drain()) dropped.push(m)
    this.sentBytes = 0
    this._inSeq = 0
    this._inSeqAcked = 0
    this._outSeq = randomStart
    this._connectSeq = 0
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
