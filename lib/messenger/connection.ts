// A Connection (Ceph's AsyncConnection) is one session with one peer, run over any number of
// sockets by a wire protocol. This file is its public face: send and back-pressure, it-pipe's
// sink and source, markDown, perfDump. The I/O edge lives in ./connection/ (life loop, reader,
// writer, ticker, receive throttle, fault injection); every protocol decision lives in
// lib/protocol (sans-IO).
import { pushable } from 'it-pushable'
import type { Pushable } from 'it-pushable'
import type { Message, MessageConnection } from '../messages/message.ts'
import { MessengerError, MessengerErrorCode } from '../protocol/errors.ts'
import type { DecoderConfig, PendingOpen, WireProtocol } from '../protocol/wire-protocol.ts'
import type { Policy } from '../session/policy.ts'
import { Session } from '../session/session.ts'
import { Priority, entityTypeName } from '../wire/constants.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import { formatEntityAddr } from '../wire/entity-addr.ts'
import type { EntityName } from '../wire/entity-name.ts'
import { formatEntityName } from '../wire/entity-name.ts'
import type { Timespec } from '../wire/frame.ts'
import type { MessengerConfig } from './config.ts'
import { newCounters } from './connection/counters.ts'
import type { ConnectionCounters } from './connection/counters.ts'
import { LifeLoop } from './connection/life-loop.ts'
import { ReceiveThrottle } from './connection/receive-throttle.ts'
import type { PolicyThrottles } from './connection/receive-throttle.ts'
import type { FrameReader } from './frame-reader.ts'
import type { Logger } from './logger.ts'
import type { MsgrSocket } from './socket.ts'
import type { Throttle } from './throttle.ts'

export type ConnectionState = 'connecting' | 'accepting' | 'open' | 'standby' | 'wait' | 'closed'
export type ConnectionEvent = 'connect' | 'accept' | 'reset' | 'remoteReset' | 'refused'
export type { ConnectionCounters, PolicyThrottles }

/** What a Connection needs from its Messenger. */
export interface ConnectionHost {
  readonly name: EntityName
  readonly config: MessengerConfig
  readonly log: Logger
  /** Our address as peers should see it (learned from the first server if it was blank). */
  readonly myAddr: EntityAddr
  learnAddr: (seenByPeer: EntityAddr) => void
  nextGlobalSeq: (atLeast?: number) => number
  protocolVersion: (peerType: number, connecting: boolean) => number
  /** The authorizer for a connect to this peer type (auth none between daemons), if any. */
  authorizerFor: (peerType: number) => { protocol: number, bytes: Uint8Array } | undefined
  dial: (addr: EntityAddr, signal?: AbortSignal) => Promise<MsgrSocket>
  /** Throttles for messages from peers of this type (policy), and the dispatch throttle. */
  throttlesFor: (peerType: number) => PolicyThrottles
  readonly dispatchThrottle: Throttle
  /** How this messenger's decoders are configured (limits, crcs, payload pool). */
  decoderConfig: (features?: bigint) => DecoderConfig
  onMessage: (conn: Connection, m: Message) => void
  onEvent: (kind: ConnectionEvent, conn: Connection) => void
  onClosed: (conn: Connection) => void
}

let nextConnectionId = 1

export class Connection implements MessageConnection {
  readonly id = nextConnectionId++
  readonly host: ConnectionHost
  /** The wire protocol this connection speaks. */
  readonly protocol: WireProtocol
  /** The peer's address: where we dial (outgoing) or what it claimed (incoming). */
  peerAddr: EntityAddr
  peerType: number
  /** The peer's entity name, from its messages. */
  peerName: EntityName | undefined
  policy: Policy
  readonly session: Session<Message>
  /** We dialled (client role of the handshake). */
  readonly outgoing: boolean
  state: ConnectionState
  /** Features both sides support, fixed by the last handshake. */
  features = 0n
  readonly counters: ConnectionCounters = newCounters()
  /** Last error that faulted a socket of this connection. */
  lastError: unknown
  /** Stamp of the last KEEPALIVE2_ACK (our clock, echoed). */
  lastKeepaliveAck: Timespec | undefined
  /** ms timestamps of the last bytes received and sent. */
  lastRx = 0
  lastTx = 0
  /** Resolves when the connection is closed for good. */
  readonly closed: Promise<void>
  /** An incoming socket is being handed to this session. */
  replacing = false
  /** The receive throttles (one owner of take, wait and release). */
  readonly throttle: ReceiveThrottle
  private readonly life: LifeLoop
  private closeResolve!: () => void
  private drainWaiters: Array<() => void> = []
  private inbox: Pushable<Message> | undefined

  constructor (host: ConnectionHost, opts: { peerAddr: EntityAddr, peerType: number, policy: Policy, outgoing: boolean, protocol: WireProtocol }) {
    this.host = host
    this.protocol = opts.protocol
    this.peerAddr = opts.peerAddr
    this.peerType = opts.peerType
    this.policy = opts.policy
    this.outgoing = opts.outgoing
    this.session = new Session<Message>(opts.policy.lossy)
    this.state = opts.outgoing ? 'connecting' : 'accepting'
    this.closed = new Promise((resolve) => { this.closeResolve = resolve })
    this.throttle = new ReceiveThrottle(host)
    this.life = new LifeLoop(this)
  }

  toString (): string {
    return `conn(${this.id} ${entityTypeName(this.peerType)} ${formatEntityAddr(this.peerAddr)} ${this.state})`
  }

  get isOpen (): boolean {
    return this.state === 'open'
  }

  get isClosed (): boolean {
    return this.state === 'closed'
  }

  hasFeature (f: bigint): boolean {
    return (this.features & f) === f
  }

  /** Start the connection's life: dial (outgoing) or wait for adopt() (incoming). */
  start (): void {
    this.life.start()
  }

  // ---- sending ----------------------------------------------------------------------------

  /**
   * Queue a message on out_q. Returns false when out_q is above its high-water mark (the caller
   * should wait for drained()); throws OUT_QUEUE_FULL above the hard limit. A closed connection
   * drops the message (as Ceph does) and returns false.
   */
  send (m: Message): boolean {
    if (this.state === 'closed') {
      this.counters.droppedOnClose++
      return false
    }
    const cfg = this.host.config
    const session = this.session
    if (session.pendingBytes + m.payloadLength > cfg.maxOutQueueBytes || session.pending >= cfg.maxOutQueueMessages) {
      const err = new MessengerError(MessengerErrorCode.OUT_QUEUE_FULL, `${this} owes its peer ${session.pending} messages, ${session.pendingBytes} bytes`)
      if (session.lossy) {
        // A peer that stops reading must not make us buffer without bound: a lossy session is
        // dropped (the peer sees a reset); a lossless one leaves the decision to the sender.
        this.life.countFault(err)
        this.shutdown('reset')
        return false
      }
      throw err
    }
    m.seq = 0
    session.queue(m)
    this.life.sent()
    return this.belowHighWater()
  }

  /** Resolves when out_q is below its high-water mark (or the connection closed). */
  drained (): Promise<void> {
    if (this.belowHighWater() || this.state === 'closed') return Promise.resolve()
    return new Promise((resolve) => { this.drainWaiters.push(resolve) })
  }

  /** out_q is under both soft limits (bytes and messages). */
  belowHighWater (): boolean {
    const q = this.session.outQ
    const cfg = this.host.config
    return q.bytes < cfg.outQueueHighWater && q.length < cfg.outQueueHighWaterMessages
  }

  /** Resolves when everything queued has been written (lossy) or acknowledged (lossless). */
  async flushed (): Promise<void> {
    while (this.state !== 'closed' && (this.session.outQ.length > 0 || (!this.session.lossy && this.session.sentLength > 0))) {
      await new Promise<void>((resolve) => { this.drainWaiters.push(resolve) })
    }
  }

  /** Wake drained() and flushed() waiters: when out_q is below its soft limits, or at close. */
  notifyDrain (): void {
    if (this.drainWaiters.length === 0) return
    if (this.state !== 'closed' && !this.belowHighWater()) return
    const ws = this.drainWaiters
    this.drainWaiters = []
    for (const w of ws) w()
  }

  /** Ask the writer to send a keepalive (KEEPALIVE2 when the peer supports it). */
  sendKeepalive (): void {
    this.life.writer.requestKeepalive()
  }

  /** it-pipe sink: send every message of the source, waiting while out_q is full. */
  readonly sink = async (source: AsyncIterable<Message> | Iterable<Message>): Promise<void> => {
    for await (const m of source) {
      if (this.state === 'closed') throw new MessengerError(MessengerErrorCode.CLOSED, `${this} is closed`)
      if (!this.send(m)) await this.drained()
    }
  }

  /**
   * it-pipe source: this connection's inbound messages. While it is iterated, messages from this
   * connection go here instead of to the dispatchers; each holds its throttle bytes until taken.
   */
  get source (): AsyncIterable<Message> {
    if (this.inbox === undefined) {
      this.inbox = pushable<Message>({ objectMode: true })
      if (this.state === 'closed') this.inbox.end()
    }
    const inbox = this.inbox
    return (async function * (conn: Connection) {
      for await (const m of inbox) {
        conn.release(m)
        yield m
      }
    })(this)
  }

  [Symbol.asyncIterator] (): AsyncIterator<Message> {
    return this.source[Symbol.asyncIterator]()
  }

  /** The messenger gives inbound messages here when someone iterates this connection. */
  deliverToInbox (m: Message): boolean {
    if (this.inbox === undefined) return false
    this.inbox.push(m)
    return true
  }

  /** Give back what a received message holds of the policy and dispatch throttles. */
  release (m: Message): void {
    const bytes = m.throttleHeld
    if (bytes < 0) return
    m.throttleHeld = -1
    this.throttle.release(this.peerType, bytes)
  }

  /** Give back only the policy throttles (the dispatch queue returns the dispatch bytes itself). */
  releasePolicy (m: Message): void {
    const bytes = m.throttleHeld
    if (bytes < 0) return
    m.throttleHeld = -1
    this.throttle.releasePolicy(this.peerType, bytes)
  }

  // ---- life -------------------------------------------------------------------------------

  /** Close now: no reset event (Ceph's mark_down). Queued messages are dropped. */
  markDown (): void {
    this.shutdown()
  }

  /** Close for good, reporting `event` if given. */
  shutdown (event?: ConnectionEvent): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    const dropped = this.session.reset(0)
    this.counters.droppedOnClose += dropped.length
    this.life.stop()
    this.inbox?.end()
    this.notifyDrain()
    this.host.onClosed(this)
    if (event !== undefined) this.host.onEvent(event, this)
    this.closeResolve()
  }

  /**
   * Hand an accepted socket to this connection: `pending` is the accept handshake's result for
   * this session to finish; `reset` = the peer lost its side of the session.
   */
  adopt (sock: MsgrSocket, reader: FrameReader, pending: PendingOpen, reset: boolean): void {
    if (this.state === 'closed') { sock.destroy(); return }
    this.replacing = true
    this.life.adopt({ sock, reader, pending, reset })
  }

  perfDump (): Record<string, number | string> {
    return {
      id: this.id,
      peer: formatEntityAddr(this.peerAddr),
      peer_name: this.peerName === undefined ? '' : formatEntityName(this.peerName),
      protocol: this.protocol.name,
      state: this.state,
      out_q: this.session.outQ.length,
      out_q_bytes: this.session.outQ.bytes,
      sent_unacked: this.session.sentLength,
      in_seq: this.session.inSeq,
      out_seq: this.session.outSeq,
      connect_seq: this.session.connectSeq,
      ...this.counters
    }
  }
}

export { Priority }
