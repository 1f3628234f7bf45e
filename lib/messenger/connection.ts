// A Connection (Ceph's Pipe / AsyncConnection + ProtocolV1) is one session with one peer. It
// outlives its sockets: a lossless session survives any number of broken TCP connections, and an
// incoming reconnect is handed to the existing Connection ("replace"). Per socket it runs the v1
// handshake, then a reader (decoder → tag router) and a writer (out_q → batched writes).
import { pushable } from 'it-pushable'
import type { Pushable } from 'it-pushable'
import { Message } from '../messages/message.ts'
import { decodeTypedMessage } from '../messages/registry.ts'
import { Policy } from '../session/policy.ts'
import { Session } from '../session/session.ts'
import { CONNECT_LOSSY, Priority, Tag, entityTypeName, tagName } from '../wire/constants.ts'
import type { ConnectMsg } from '../wire/connect.ts'
import { encodeConnect, encodeConnectReply, encodeSeq } from '../wire/connect.ts'
import type { DecoderRole, FrameDecoder } from '../wire/decoder.ts'
import { encodeBanner, encodeKeepalive, timespecNow, WriteBatch } from '../wire/encoder.ts'
import type { OutgoingMessage } from '../wire/encoder.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import { encodeEntityAddr, formatEntityAddr, isBlankIp } from '../wire/entity-addr.ts'
import type { EntityName } from '../wire/entity-name.ts'
import { formatEntityName } from '../wire/entity-name.ts'
import { ProtocolError } from '../wire/errors.ts'
import { Feature } from '../wire/features.ts'
import type { Frame, MsgFrame, Timespec } from '../wire/frame.ts'
import type { MessengerConfig } from './config.ts'
import { errorCode, MessengerError, MessengerErrorCode } from './errors.ts'
import { FrameReader } from './frame-reader.ts'
import type { InterceptInfo, InterceptStep } from './interceptor.ts'
import type { Logger } from './logger.ts'
import { Signal } from './signal.ts'
import type { MsgrSocket } from './socket.ts'
import type { Throttle } from './throttle.ts'

const EMPTY_BYTES = new Uint8Array(0)
/**
 * A receiver that keeps reading ACKs at least every ACK_EVERY messages or ACK_EVERY_BYTES payload
 * bytes: the peer keeps what it sent for replay until then, and its send window (messages) and
 * out-queue limits (bytes) must not fill while we are still reading.
 */
const ACK_EVERY = 1024
const ACK_EVERY_BYTES = 4 * 1024 * 1024

export type ConnectionState = 'connecting' | 'accepting' | 'open' | 'standby' | 'wait' | 'closed'
export type ConnectionEvent = 'connect' | 'accept' | 'reset' | 'remoteReset' | 'refused'

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
  /** A decoder configured as this messenger's connections need (limits, crcs, payload pool). */
  newDecoder: (role: DecoderRole, features?: bigint) => FrameDecoder
  onMessage: (conn: Connection, m: Message) => void
  onEvent: (kind: ConnectionEvent, conn: Connection) => void
  onClosed: (conn: Connection) => void
}

/** A policy's receive throttles for one peer type (absent = unlimited). */
export interface PolicyThrottles {
  messages?: Throttle
  bytes?: Throttle
}

export interface ConnectionCounters {
  msgsIn: number
  bytesIn: number
  msgsOut: number
  bytesOut: number
  wireBytesIn: number
  wireBytesOut: number
  writes: number
  /** Socket reads (chunks received): wireBytesIn / reads is the mean read size. */
  reads: number
  acksIn: number
  acksOut: number
  /** Most messages ever written but not yet acknowledged at once (bounded by the send window). */
  sentUnackedPeak: number
  keepalivesIn: number
  keepalivesOut: number
  keepaliveAcksIn: number
  duplicates: number
  faults: number
  reconnects: number
  throttleWaits: number
  droppedOnClose: number
  injectedFailures: number
}

let nextConnectionId = 1

/**
 * Why we destroyed a socket ourselves (keepalive or handshake timeout, injected failure). What
 * the reader sees next is only an EOF (memory) or a wrapped socket error (TCP); the fault is
 * reported with this reason instead.
 */
const localFaults = new WeakMap<MsgrSocket, unknown>()

function failSocket (sock: MsgrSocket, err: MessengerError): void {
  if (!localFaults.has(sock)) localFaults.set(sock, err)
  sock.destroy(err)
}


function sameHostPort (a: EntityAddr, b: EntityAddr): boolean {
  return a.ip === b.ip && a.port === b.port
}

export class Connection {
  readonly id = nextConnectionId++
  readonly host: ConnectionHost
  /** The peer's address: where we dial (outgoing) or what it claimed (incoming). */
  peerAddr: EntityAddr
  peerType: number
  /** The peer's entity name, from the src of its messages. */
  peerName: EntityName | undefined
  policy: Policy
  readonly session: Session<Message>
  /** We dialled (client role of the handshake). */
  readonly outgoing: boolean
  state: ConnectionState
  /** Features both sides support, fixed by the last handshake. */
  features = 0n
  readonly counters: ConnectionCounters = {
    msgsIn: 0, bytesIn: 0, msgsOut: 0, bytesOut: 0, wireBytesIn: 0, wireBytesOut: 0, writes: 0, reads: 0,
    acksIn: 0, acksOut: 0, sentUnackedPeak: 0, keepalivesIn: 0, keepalivesOut: 0, keepaliveAcksIn: 0,
    duplicates: 0, faults: 0, reconnects: 0, throttleWaits: 0, droppedOnClose: 0, injectedFailures: 0
  }

  /** Last error that faulted a socket of this connection. */
  lastError: unknown
  /** Stamp of the last KEEPALIVE2_ACK (our clock, echoed). */
  lastKeepaliveAck: Timespec | undefined
  /** ms timestamps of the last bytes received and sent. */
  lastRx = 0
  lastTx = 0

  private sock: MsgrSocket | undefined
  private readonly writeSignal = new Signal()
  /** Wakes the life loop (standby, wait, or a socket handed over by the accepter). */
  private readonly wake = new Signal()
  private adoptQueue: Array<{ sock: MsgrSocket, reader: FrameReader, connect: ConnectMsg, reset: boolean }> = []
  private backoffMs = 0
  private keepalivePending = false
  /** Ends the writer's wait for the end of the loop turn early (enough unacknowledged messages). */
  private ackWake: (() => void) | undefined
  /** Payload bytes accepted since our last ACK. */
  private ackBytes = 0
  /** The last handshake bytes (the client's in_seq after TAG_SEQ), left for the writer's first write. */
  private handshakeTail: Uint8Array | undefined
  /** performance.now() of the last socket read: the receive stamp of the messages it completed. */
  private rxStamp = 0
  private keepaliveAcks: Timespec[] = []
  private drainWaiters: Array<() => void> = []
  private inbox: Pushable<Message> | undefined
  private tickTimer: unknown
  private closeResolve!: () => void
  /** Resolves when the connection is closed for good. */
  readonly closed: Promise<void>
  /** An incoming connect is being handed to us. */
  replacing = false
  private life: Promise<void> | undefined
  /** Set by the accept path before adopt(): the peer's connect flagged it lossy. */

  constructor (host: ConnectionHost, opts: { peerAddr: EntityAddr, peerType: number, policy: Policy, outgoing: boolean }) {
    this.host = host
    this.peerAddr = opts.peerAddr
    this.peerType = opts.peerType
    this.policy = opts.policy
    this.outgoing = opts.outgoing
    this.session = new Session<Message>(opts.policy.lossy)
    this.state = opts.outgoing ? 'connecting' : 'accepting'
    this.closed = new Promise((resolve) => { this.closeResolve = resolve })
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
    if (this.life !== undefined) return
    this.life = this.run().catch((e) => {
      // run() handles its own faults; anything here is a bug — close rather than crash.
      this.host.log.error('ms', 'connection loop failed', { conn: this.id, err: String(e) })
      this.shutdown()
    })
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
      if (this.session.lossy) {
        // A peer that stops reading must not make us buffer without bound: a lossy session is
        // dropped (the peer sees a reset); a lossless one leaves the decision to the sender.
        this.countFault(err)
        this.shutdown('reset')
        return false
      }
      throw err
    }
    m.seq = 0
    this.session.queue(m)
    if (this.state === 'standby' && !this.policy.server) {
      // A standby connection reconnects on the next send (connect_seq unchanged, as Ceph's
      // send_message → _connect does; only a fault's reconnect bumps it).
      this.state = 'connecting'
      this.counters.reconnects++
      this.wake.notify()
    }
    this.writeSignal.notify()
    return this.belowHighWater()
  }

  /** Resolves when out_q is below its high-water mark (or the connection closed). */
  drained (): Promise<void> {
    if (this.belowHighWater() || this.state === 'closed') return Promise.resolve()
    return new Promise((resolve) => { this.drainWaiters.push(resolve) })
  }

  /** out_q is under both soft limits (bytes and messages). */
  private belowHighWater (): boolean {
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
  private notifyDrain (): void {
    if (this.drainWaiters.length === 0) return
    if (this.state !== 'closed' && !this.belowHighWater()) return
    const ws = this.drainWaiters
    this.drainWaiters = []
    for (const w of ws) w()
  }

  /** Ask the writer to send a keepalive (KEEPALIVE2 when the peer supports it). */
  sendKeepalive (): void {
    this.keepalivePending = true
    this.writeSignal.notify()
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

  // ---- receive-side throttles -------------------------------------------------------------

  private throttles: PolicyThrottles | undefined
  private throttlesType = -1

  /** The policy throttles for this peer's type (looked up again only if the type changes). */
  private policyThrottles (): PolicyThrottles {
    if (this.throttles === undefined || this.throttlesType !== this.peerType) {
      this.throttles = this.host.throttlesFor(this.peerType)
      this.throttlesType = this.peerType
    }
    return this.throttles
  }

  /** Give back what a received message holds of the policy and dispatch throttles. */
  release (m: Message): void {
    const bytes = m.throttleHeld
    if (bytes < 0) return
    m.throttleHeld = -1
    this.releaseBytes(bytes)
  }

  /** Give back what the reader took for a message of `bytes` payload bytes. */
  private releaseBytes (bytes: number): void {
    const t = this.policyThrottles()
    t.messages?.put(1)
    if (bytes > 0) {
      t.bytes?.put(bytes)
      this.host.dispatchThrottle.put(bytes)
    }
  }

  /** Give back only the policy throttles (the dispatch queue returns the dispatch bytes itself). */
  releasePolicy (m: Message): void {
    const bytes = m.throttleHeld
    if (bytes < 0) return
    m.throttleHeld = -1
    const t = this.policyThrottles()
    t.messages?.put(1)
    if (bytes > 0) t.bytes?.put(bytes)
  }

  // ---- life -------------------------------------------------------------------------------

  /** Close now: no reset event (Ceph's mark_down). Queued messages are dropped. */
  markDown (): void {
    this.shutdown()
  }

  private shutdown (event?: ConnectionEvent): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.stopTicker()
    const dropped = this.session.reset(0)
    this.counters.droppedOnClose += dropped.length
    this.sock?.destroy()
    this.dialAbort?.abort(new MessengerError(MessengerErrorCode.CLOSED, 'marked down while connecting'))
    for (const a of this.adoptQueue) a.sock.destroy()
    this.adoptQueue = []
    this.inbox?.end()
    this.wake.notify()
    this.writeSignal.notify()
    this.notifyDrain()
    this.host.onClosed(this)
    if (event !== undefined) this.host.onEvent(event, this)
    this.closeResolve()
  }

  /**
   * Hand an accepted socket to this connection. `connect` is the client's connect message the
   * accepter decided to answer from this session; `reset` = the peer lost its session.
   */
  adopt (sock: MsgrSocket, reader: FrameReader, connect: ConnectMsg, reset: boolean): void {
    if (this.state === 'closed') { sock.destroy(); return }
    this.replacing = true
    this.adoptQueue.push({ sock, reader, connect, reset })
    // Whatever this connection is doing with its current socket ends now.
    const old = this.sock
    if (old !== undefined) old.destroy()
    this.wake.notify()
    this.start()
  }

  private async run (): Promise<void> {
    const cfg = this.host.config
    while (this.state !== 'closed') {
      const adopted = this.adoptQueue.shift()
      if (adopted !== undefined) {
        // Only the newest handed-over socket matters.
        for (const a of this.adoptQueue) a.sock.destroy()
        this.adoptQueue = []
        let err: unknown
        try {
          await this.serverOpen(adopted.sock, adopted.reader, adopted.connect, adopted.reset)
          err = await this.runOpen(adopted.sock, adopted.reader)
        } catch (e) {
          err = localFaults.get(adopted.sock) ?? e
          adopted.sock.destroy()
        }
        this.afterFault(err, true)
        continue
      }
      if (this.state === 'standby' || this.state === 'accepting' || (this.policy.server && this.state !== 'connecting')) {
        const w = this.wake.wait()
        if (w !== undefined) await w
        continue
      }
      if (this.state === 'wait') {
        await this.sleep(cfg.maxBackoffMs)
        if (this.state === 'wait') this.state = 'connecting'
        continue
      }
      // connecting: after a failed attempt, back off first. (Sleeping after the dial instead would
      // hold a connected socket silent past the peer's handshake timeout, and a refused dial
      // would be retried at once.)
      if (this.pendingBackoff > 0) {
        const ms = this.pendingBackoff
        this.pendingBackoff = 0
        await this.sleep(ms)
        continue
      }
      let sock: MsgrSocket | undefined
      let opened = false
      try {
        sock = await this.dialWithTimeout()
        if ((this.state as ConnectionState) === 'closed' || this.adoptQueue.length > 0) { sock.destroy(); continue }
        this.sock = sock
        const reader = await this.clientHandshake(sock)
        opened = true
        const err = await this.runOpen(sock, reader)
        this.afterFault(err, true)
      } catch (e) {
        sock?.destroy()
        const err = (sock === undefined ? undefined : localFaults.get(sock)) ?? e
        if (!opened) this.afterHandshakeFault(err)
        else this.afterFault(err, true)
      }
    }
  }

  private dialAbort: AbortController | undefined

  /** Dial the peer, bounded by the handshake timeout and cancelled by markDown. */
  private async dialWithTimeout (): Promise<MsgrSocket> {
    const cfg = this.host.config
    const ac = new AbortController()
    this.dialAbort = ac
    let timer: unknown
    if (cfg.handshakeTimeoutMs > 0) {
      timer = cfg.timers.setTimeout(() => { ac.abort(new MessengerError(MessengerErrorCode.HANDSHAKE_TIMEOUT, `connect to ${formatEntityAddr(this.peerAddr)} timed out`)) }, cfg.handshakeTimeoutMs)
    }
    try {
      return await this.host.dial(this.peerAddr, ac.signal)
    } finally {
      if (timer !== undefined) cfg.timers.clearTimeout(timer)
      this.dialAbort = undefined
    }
  }

  private sleep (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const owed = !this.session.lossy && this.session.pending > 0
      const t = this.host.config.timers.setTimeout(() => { this.wake.notify() }, ms, owed)
      const w = this.wake.wait()
      if (w === undefined) { this.host.config.timers.clearTimeout(t); resolve(); return }
      void w.then(() => { this.host.config.timers.clearTimeout(t); resolve() })
    })
  }

  private countFault (err: unknown): void {
    this.lastError = err
    this.counters.faults++
    this.host.log.debug('ms', 'fault', { conn: this.id, peer: formatEntityAddr(this.peerAddr), code: errorCode(err), err: String((err as Error)?.message ?? err) })
  }

  /** A failure before the session opened (dial, handshake, refusal, WAIT). */
  private afterHandshakeFault (err: unknown): void {
    this.sock = undefined
    if (this.state === 'closed') return
    if (this.adoptQueue.length > 0) return
    this.countFault(err)
    if (err instanceof MessengerError && err.code === MessengerErrorCode.REFUSED) {
      this.shutdown('refused')
      return
    }
    if (err instanceof WaitSignal) {
      // The peer is connecting to us at the same time and its connection will win.
      this.state = 'wait'
      return
    }
    if (this.session.lossy) {
      this.shutdown('reset')
      return
    }
    this.session.requeueSent()
    const cfg = this.host.config
    this.backoffMs = this.backoffMs === 0 ? cfg.initialBackoffMs : Math.min(this.backoffMs * 2, cfg.maxBackoffMs)
    this.state = 'connecting'
    this.pendingBackoff = this.backoffMs
  }

  private pendingBackoff = 0

  /** The session was open (or being opened from the server side) and its socket failed. */
  private afterFault (err: unknown, _wasOpen: boolean): void {
    this.stopTicker()
    this.sock = undefined
    if (this.state === 'closed') return
    if (this.adoptQueue.length > 0) {
      // Replaced by a newer socket from the same peer: not a fault of the session.
      this.session.requeueSent()
      return
    }
    this.countFault(err)
    if (this.session.lossy) {
      this.shutdown('reset')
      return
    }
    if (err instanceof MessengerError && err.code === MessengerErrorCode.REFUSED) {
      this.shutdown('refused')
      return
    }
    this.session.requeueSent()
    this.notifyDrain()
    if (this.policy.standby && this.session.outQ.length === 0 && !this.keepalivePending) {
      this.state = 'standby'
      return
    }
    if (this.policy.server || !this.outgoingCapable()) {
      this.state = 'standby'
      return
    }
    this.session.connectSeq++
    this.counters.reconnects++
    this.state = 'connecting'
  }

  /** Can we dial the peer? Only if it told us a real listening address. */
  private outgoingCapable (): boolean {
    return this.outgoing || (this.peerAddr.port !== 0 && !isBlankIp(this.peerAddr))
  }

  // ---- handshake, client side (ProtocolV1 connect path) -------------------------------------

  private armHandshakeTimer (sock: MsgrSocket): () => void {
    const cfg = this.host.config
    if (cfg.handshakeTimeoutMs <= 0) return () => {}
    let t: unknown
    const arm = (): void => {
      if (t !== undefined) cfg.timers.clearTimeout(t)
      t = cfg.timers.setTimeout(() => {
        failSocket(sock, new MessengerError(MessengerErrorCode.HANDSHAKE_TIMEOUT, 'handshake step timed out'))
      }, cfg.handshakeTimeoutMs)
    }
    arm()
    this.handshakeStep = arm
    return () => { if (t !== undefined) cfg.timers.clearTimeout(t); this.handshakeStep = undefined }
  }

  private handshakeStep: (() => void) | undefined

  /** Run the interceptor (if any) at a named step; 'fail' faults this handshake. */
  private async intercept (step: InterceptStep, info: Partial<InterceptInfo> = {}): Promise<void> {
    const ic = this.host.config.interceptor
    if (ic === undefined) return
    const r = await ic.intercept(step, { peer: this.peerAddr, connectionId: this.id, ...info })
    if (r === 'fail') throw new MessengerError(MessengerErrorCode.INJECTED, `interceptor failed the connection at ${step}`)
  }

  private async nextHandshakeFrame (reader: FrameReader, kind: Frame['kind']): Promise<Frame> {
    let f: Frame
    try {
      f = await reader.next()
    } catch (e) {
      if (this.timedOut(e)) throw new MessengerError(MessengerErrorCode.HANDSHAKE_TIMEOUT, `no ${kind} from the peer in time`)
      throw e
    }
    if (f.kind !== kind) throw new ProtocolError('UNEXPECTED_DATA', `expected ${kind}, got ${f.kind}`, reader.dec.offset)
    this.handshakeStep?.()
    return f
  }

  private timedOut (e: unknown): boolean {
    const c = (e as { cause?: unknown })?.cause
    return c instanceof MessengerError && c.code === MessengerErrorCode.HANDSHAKE_TIMEOUT
  }

  private newDecoder (role: 'client' | 'server'): FrameDecoder {
    return this.host.newDecoder(role, this.policy.featuresSupported)
  }

  private async clientHandshake (sock: MsgrSocket): Promise<FrameReader> {
    const cfg = this.host.config
    this.handshakeTail = undefined
    const reader = new FrameReader(sock, this.newDecoder('client'))
    this.attachInjection(reader)
    const disarm = this.armHandshakeTimer(sock)
    try {
      await this.intercept('connect:start')
      const gseq = this.host.nextGlobalSeq()
      let globalSeq = gseq
      this.write(sock, [encodeBanner()])
      await this.nextHandshakeFrame(reader, 'banner')
      const selfF = await this.nextHandshakeFrame(reader, 'addr')
      const peerF = await this.nextHandshakeFrame(reader, 'addr')
      if (selfF.kind !== 'addr' || peerF.kind !== 'addr') throw new Error('unreachable')
      const paddr = selfF.addr
      if (!sameHostPort(paddr, this.peerAddr) && !(isBlankIp(paddr) && paddr.port === this.peerAddr.port)) {
        throw new MessengerError(MessengerErrorCode.PEER_ADDR_MISMATCH, `dialled ${formatEntityAddr(this.peerAddr)}, peer says ${formatEntityAddr(paddr)}`)
      }
      if (this.peerAddr.nonce !== 0 && paddr.nonce !== this.peerAddr.nonce) {
        throw new MessengerError(MessengerErrorCode.PEER_ADDR_MISMATCH, `peer nonce ${paddr.nonce}, expected ${this.peerAddr.nonce}`)
      }
      this.host.learnAddr(peerF.addr)
      if (cfg.injectInternalDelays > 0) await this.sleep(cfg.injectInternalDelays * 1000)
      // Our address goes out in the same write as the first connect (one segment, one wake-up
      // of the peer, instead of two).
      let addrBytes: Uint8Array[] = [encodeEntityAddr(this.host.myAddr)]
      const protocol = this.host.protocolVersion(this.peerType, true)
      const auth = this.host.authorizerFor(this.peerType)
      while (true) {
        await this.intercept('connect:send_connect', { connectSeq: this.session.connectSeq, globalSeq })
        this.write(sock, [...addrBytes, encodeConnect({
          features: this.policy.featuresSupported,
          hostType: this.host.name.type,
          globalSeq,
          connectSeq: this.session.connectSeq,
          protocolVersion: protocol,
          authorizerProtocol: auth?.protocol ?? 0,
          authorizer: auth?.bytes,
          flags: this.policy.lossy ? CONNECT_LOSSY : 0
        })])
        addrBytes = []
        const rf = await this.nextHandshakeFrame(reader, 'connect_reply')
        if (rf.kind !== 'connect_reply') throw new Error('unreachable')
        const reply = rf.reply
        await this.intercept('connect:reply', { tag: tagName(reply.tag), connectSeq: reply.connectSeq, globalSeq: reply.globalSeq })
        this.host.log.trace('ms', 'connect_reply', { conn: this.id, tag: tagName(reply.tag), gseq: reply.globalSeq, cseq: reply.connectSeq })
        switch (reply.tag) {
          case Tag.FEATURES:
          case Tag.BADPROTOVER:
          case Tag.BADAUTHORIZER:
          case Tag.CHALLENGE_AUTHORIZER: {
            const err = new MessengerError(MessengerErrorCode.REFUSED, `peer replied ${tagName(reply.tag)}` +
              (reply.tag === Tag.FEATURES ? ` (requires 0x${reply.features.toString(16)}, missing 0x${(reply.features & ~this.policy.featuresSupported).toString(16)})` : ''))
            Object.assign(err, { tag: tagName(reply.tag) })
            throw err
          }
          case Tag.RESETSESSION: {
            const dropped = this.session.reset(this.randomOutSeq())
            this.counters.droppedOnClose += dropped.length
            this.host.onEvent('remoteReset', this)
            continue
          }
          case Tag.RETRY_GLOBAL:
            globalSeq = this.host.nextGlobalSeq(reply.globalSeq)
            continue
          case Tag.RETRY_SESSION:
            if (reply.connectSeq <= this.session.connectSeq) {
              throw new MessengerError(MessengerErrorCode.BAD_CONNECT_SEQ, `RETRY_SESSION with connect_seq ${reply.connectSeq} <= ${this.session.connectSeq}`)
            }
            this.session.connectSeq = reply.connectSeq
            continue
          case Tag.WAIT:
            throw new WaitSignal()
        }
        const missing = this.policy.featuresRequired & ~reply.features
        if (missing !== 0n) {
          throw new MessengerError(MessengerErrorCode.REFUSED, `peer lacks required features 0x${missing.toString(16)}`)
        }
        if (reply.tag === Tag.SEQ) {
          const sf = await this.nextHandshakeFrame(reader, 'seq')
          if (sf.kind !== 'seq') throw new Error('unreachable')
          this.session.discardRequeuedUpTo(sf.seq)
          // Sent by the writer ahead of its first batch: with the first messages, in one write.
          this.handshakeTail = encodeSeq(this.session.inSeq)
        }
        // client_ready
        await this.intercept('connect:ready')
        this.session.peerGlobalSeq = reply.globalSeq
        const lossy = (reply.flags & CONNECT_LOSSY) !== 0
        if (lossy !== this.policy.lossy) this.policy = this.policy.with({ lossy })
        this.session.lossy = lossy
        this.session.connectSeq++
        if (this.session.connectSeq !== reply.connectSeq) {
          throw new MessengerError(MessengerErrorCode.BAD_CONNECT_SEQ, `connect_seq ${this.session.connectSeq} != reply ${reply.connectSeq}`)
        }
        this.features = this.policy.featuresSupported & reply.features
        reader.dec.setNegotiatedFeatures(this.features)
        this.session.inSeqAcked = this.session.inSeq
        this.backoffMs = 0
        this.host.onEvent('connect', this)
        return reader
      }
    } finally {
      disarm()
    }
  }

  private randomOutSeq (): number {
    // Ceph's code can randomise the first seq of a reset session under MSG_AUTH, but real Pacific
    // mons were seen restarting at seq 1 after RESETSESSION; receivers accept either, so we
    // restart at 1 like the daemons do (spec/session/lossless-golden.spec.ts).
    return 0
  }

  // ---- handshake, server side (ProtocolV1 open path, after the accepter's decision) -------

  private async serverOpen (sock: MsgrSocket, reader: FrameReader, connect: ConnectMsg, reset: boolean): Promise<void> {
    this.replacing = false
    this.sock = sock
    if (reset) {
      const dropped = this.session.reset(0)
      this.counters.droppedOnClose += dropped.length
      this.host.onEvent('remoteReset', this)
    } else {
      this.session.requeueSent()
    }
    const disarm = this.armHandshakeTimer(sock)
    try {
      await this.intercept('accept:open', { connectSeq: connect.connectSeq, globalSeq: connect.globalSeq })
      const seqTag = (connect.features & Feature.RECONNECT_SEQ) !== 0n && !reset
      this.session.connectSeq = connect.connectSeq + 1
      this.session.peerGlobalSeq = connect.globalSeq
      if (!seqTag) this.session.inSeq = this.session.inSeqAcked = reset ? 0 : this.session.inSeq
      this.features = this.policy.featuresSupported & connect.features
      reader.dec.setNegotiatedFeatures(this.features)
      const reply = encodeConnectReply({
        tag: seqTag ? Tag.SEQ : Tag.READY,
        features: this.policy.featuresSupported,
        globalSeq: this.host.nextGlobalSeq(),
        connectSeq: this.session.connectSeq,
        protocolVersion: this.host.protocolVersion(this.peerType, false),
        flags: this.policy.lossy ? CONNECT_LOSSY : 0
      })
      if (seqTag) {
        this.write(sock, [reply, encodeSeq(this.session.inSeq)])
        reader.dec.expect('seq')
        const sf = await this.nextHandshakeFrame(reader, 'seq')
        if (sf.kind !== 'seq') throw new Error('unreachable')
        this.session.discardRequeuedUpTo(sf.seq)
      } else {
        this.write(sock, [reply])
        reader.dec.expect('tags')
      }
      this.session.inSeqAcked = this.session.inSeq
      this.host.onEvent('accept', this)
    } finally {
      disarm()
    }
  }

  // ---- the open session -------------------------------------------------------------------

  private write (sock: MsgrSocket, bufs: Uint8Array[]): Promise<void> | undefined {
    if (this.host.config.injectSocketFailures > 0) this.maybeInjectFailure(sock)
    let n = 0
    for (const b of bufs) n += b.length
    this.counters.wireBytesOut += n
    this.counters.writes++
    this.lastTx = this.host.config.timers.now()
    return sock.write(bufs)
  }

  private maybeInjectFailure (sock: MsgrSocket): void {
    const n = this.host.config.injectSocketFailures
    if (Math.floor(this.host.config.random() * n) === 0) {
      this.counters.injectedFailures++
      failSocket(sock, new MessengerError(MessengerErrorCode.INJECTED, 'injected socket failure'))
    }
  }

  private attachInjection (reader: FrameReader): void {
    const sockOf = (): MsgrSocket | undefined => this.sock
    reader.onChunk = (chunk) => {
      this.counters.wireBytesIn += chunk.length
      this.counters.reads++
      this.lastRx = this.host.config.timers.now()
      if (this.host.config.injectSocketFailures > 0) {
        const s = sockOf()
        if (s !== undefined) this.maybeInjectFailure(s)
      }
    }
  }

  /** Run reader and writer on an open socket; resolves with what ended it. */
  private async runOpen (sock: MsgrSocket, reader: FrameReader): Promise<unknown> {
    if (this.state === 'closed') { sock.destroy(); return new MessengerError(MessengerErrorCode.CLOSED, 'closed') }
    this.sock = sock
    this.state = 'open'
    this.attachInjection(reader)
    this.lastRx = this.lastTx = this.host.config.timers.now()
    this.startTicker()
    this.writeSignal.notify()
    let ended: unknown
    const stop = (err: unknown): void => {
      if (ended === undefined) ended = err ?? new MessengerError(MessengerErrorCode.PEER_CLOSED, 'closed')
      sock.destroy()
      this.writeSignal.notify()
    }
    const rd = this.readLoop(sock, reader).then(stop, stop)
    const wr = this.writeLoop(sock).then(stop, stop)
    await Promise.all([rd, wr])
    await reader.close()
    return localFaults.get(sock) ?? ended
  }

  private async writeLoop (sock: MsgrSocket): Promise<unknown> {
    const cfg = this.host.config
    const batch = new WriteBatch(64 * 1024, 4096)
    const crc = { crcHeader: cfg.crcHeader, crcData: cfg.crcData }
    const msgAuth = this.hasFeature(Feature.MSG_AUTH)
    const ka2 = this.hasFeature(Feature.MSGR_KEEPALIVE2)
    const c = this.counters
    let ackDeferred = false
    let sinceYield = 0
    const yieldBytes = cfg.writeBatchBytes
    // Lossy sessions keep nothing for replay: no window.
    const sendWindow = this.session.lossy ? 0 : cfg.sendWindowMessages
    // One scratch frame description for every message this writer encodes (no per-message objects).
    const out: OutgoingMessage = {
      header: { seq: 0, tid: 0, type: 0, priority: 0, version: 0, dataOff: 0, src: this.host.name, compatVersion: 0 },
      front: EMPTY_BYTES,
      middle: EMPTY_BYTES,
      data: EMPTY_BYTES
    }
    if (this.handshakeTail !== undefined) {
      batch.append(this.handshakeTail)
      this.handshakeTail = undefined
    }
    while (this.sock === sock && !sock.destroyed && this.state === 'open') {
      if (this.keepalivePending) {
        this.keepalivePending = false
        if (ka2) batch.appendKeepalive2(timespecNow(cfg.timers.now()))
        else batch.append(encodeKeepalive())
        c.keepalivesOut++
      }
      if (this.keepaliveAcks.length > 0) {
        for (const st of this.keepaliveAcks) batch.appendKeepalive2(st, true)
        this.keepaliveAcks = []
      }
      if (!ackDeferred && batch.empty && this.session.outQ.length === 0 && this.session.hasAckPending &&
          !this.ackDue()) {
        // Only an ACK to send: wait a turn of the event loop so the reads of this turn (and
        // any reply the dispatcher is about to queue) share one ACK and one write. While the
        // peer keeps us reading, keep waiting until one is due (ackDue; accept() wakes us). Each
        // ACK is a write, and on loopback a write runs the peer's TCP receive path too: one per
        // read was ~10% of our receive CPU.
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
        ackDeferred = c.reads === reads || this.ackDue()
        continue
      }
      ackDeferred = false
      const ack = this.session.takeAck()
      if (ack !== undefined) {
        batch.appendAck(ack)
        c.acksOut++
        this.ackBytes = 0
      }
      while (batch.bytes < cfg.writeBatchBytes) {
        if (sendWindow > 0 && this.session.sentLength >= sendWindow) break
        const m = this.session.nextToSend()
        if (m === undefined) break
        if (!m.payloadEncoded) {
          m.payloadEncoded = true
          if (m.front.length === 0 && m.middle.length === 0 && m.data.length === 0) {
            m.encodePayload(this.features)
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
        batch.appendMessage(out, msgAuth, crc)
        c.msgsOut++
        c.bytesOut += m.payloadLength
      }
      if (this.session.sentLength > c.sentUnackedPeak) c.sentUnackedPeak = this.session.sentLength
      if (batch.empty) {
        this.notifyDrain()
        batch.release()
        const w = this.writeSignal.wait()
        if (w !== undefined) await w
        continue
      }
      const bytes = batch.bytes
      const p = this.write(sock, batch.flush())
      if (this.belowHighWater()) this.notifyDrain()
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

  private async readLoop (sock: MsgrSocket, reader: FrameReader): Promise<unknown> {
    const dec = reader.dec
    this.rxStamp = performance.now()
    while (this.sock === sock && this.state !== 'closed') {
      let f = dec.next()
      while (f !== undefined) {
        if (f.kind === 'msg') {
          const p = this.handleMsg(f)
          if (p !== undefined) await p
        } else {
          const end = this.handleControl(f)
          if (end !== undefined) return end
        }
        if (this.sock !== sock || (this.state as ConnectionState) === 'closed') break
        f = dec.next()
      }
      // Take a queued chunk at once; else wait on the socket itself (one promise hop per wake-up).
      let more = reader.poll()
      while (more === undefined) {
        const w = reader.readable()
        if (w === undefined) {
          more = await reader.fill()
        } else {
          await w
          more = reader.poll()
        }
      }
      if (!more) {
        dec.end()
        return new MessengerError(MessengerErrorCode.PEER_CLOSED, 'peer closed the connection')
      }
      // Every message completed by this read arrived now (one clock read per read, not per message).
      this.rxStamp = performance.now()
    }
    return new MessengerError(MessengerErrorCode.CLOSED, 'reader stopped')
  }

  private handleControl (f: Frame): unknown {
    const c = this.counters
    switch (f.kind) {
      case 'ack': {
        c.acksIn++
        // An ACK that trims the sent list may reopen the send window.
        if (this.session.handleAck(f.seq) > 0 && this.session.outQ.length > 0) this.writeSignal.notify()
        this.notifyDrain()
        return undefined
      }
      case 'keepalive':
        c.keepalivesIn++
        return undefined
      case 'keepalive2':
        c.keepalivesIn++
        if (this.keepaliveAcks.length < 16) this.keepaliveAcks.push(f.stamp)
        this.writeSignal.notify()
        return undefined
      case 'keepalive2_ack':
        c.keepaliveAcksIn++
        this.lastKeepaliveAck = f.stamp
        return undefined
      case 'close':
        return new MessengerError(MessengerErrorCode.PEER_CLOSED, 'peer sent CLOSE')
      default:
        return new ProtocolError('UNEXPECTED_DATA', `${f.kind} on an open session`, 0)
    }
  }

  /** One received message: throttles, dedupe, then the messenger's dispatch path. */
  private handleMsg (f: MsgFrame): Promise<void> | undefined {
    const bytes = f.front.length + f.middle.length + f.data.length
    const t = this.policyThrottles()
    const d = this.host.dispatchThrottle
    // Each throttle is tried without waiting first; waiting stops this reader (and so the socket).
    if ((t.messages === undefined || t.messages.tryGet(1))) {
      if (bytes === 0 || ((t.bytes === undefined || t.bytes.tryGet(bytes)))) {
        if (bytes === 0 || d.tryGet(bytes)) {
          this.accept(f, bytes)
          return undefined
        }
        return this.waitThrottles(f, bytes, 2)
      }
      return this.waitThrottles(f, bytes, 1)
    }
    return this.waitThrottles(f, bytes, 0)
  }

  private async waitThrottles (f: MsgFrame, bytes: number, from: number): Promise<void> {
    this.counters.throttleWaits++
    const t = this.policyThrottles()
    if (from <= 0 && t.messages !== undefined) await t.messages.get(1)
    if (from <= 1 && bytes > 0 && t.bytes !== undefined) await t.bytes.get(bytes)
    if (bytes > 0) await this.host.dispatchThrottle.get(bytes)
    this.accept(f, bytes)
  }

  private accept (f: MsgFrame, bytes: number): void {
    const h = f.header
    if (this.state === 'closed') {
      // Marked down while this message was being read (or waited for a throttle): drop it.
      this.releaseBytes(bytes)
      f.lease?.release()
      return
    }
    // The decoded header carries every MessageInit field but the sections: no init object per message.
    const raw = new Message(h)
    raw.front = f.front
    raw.middle = f.middle
    raw.data = f.data
    raw.seq = h.seq
    raw.connection = this
    raw.recvStamp = this.rxStamp
    raw.throttleHeld = bytes
    raw.lease = f.lease
    if (this.session.receive(h.seq) === 'duplicate') {
      this.counters.duplicates++
      this.release(raw)
      raw.put()
      return
    }
    let m: Message
    try {
      m = decodeTypedMessage(raw)
    } catch (e) {
      this.release(raw)
      raw.put()
      throw e
    }
    if (m !== raw) {
      m.throttleHeld = bytes
      raw.throttleHeld = -1
      m.lease = raw.lease
      raw.lease = undefined
    }
    this.counters.msgsIn++
    this.counters.bytesIn += bytes
    this.peerName = h.src
    if (!this.session.lossy) {
      this.writeSignal.notify()
      this.ackBytes += bytes
      if (this.ackWake !== undefined && this.ackDue()) this.ackWake()
    }
    this.host.onMessage(this, m)
  }

  // ---- keepalive and idle ticks ------------------------------------------------------------

  /** The peer should have an ACK now, even though we are still reading (see ACK_EVERY). */
  private ackDue (): boolean {
    return this.session.unacked >= ACK_EVERY || this.ackBytes >= ACK_EVERY_BYTES
  }

  private startTicker (): void {
    const cfg = this.host.config
    const period = Math.min(...[cfg.keepaliveIntervalMs, cfg.keepaliveTimeoutMs, this.session.lossy ? cfg.idleTimeoutMs : 0].filter((x) => x > 0))
    if (!Number.isFinite(period)) return
    this.stopTicker()
    const tick = (): void => {
      this.tickTimer = undefined
      if (this.state !== 'open') return
      const now = cfg.timers.now()
      const sock = this.sock
      if (cfg.keepaliveTimeoutMs > 0 && now - this.lastRx > cfg.keepaliveTimeoutMs) {
        if (sock !== undefined) failSocket(sock, new MessengerError(MessengerErrorCode.KEEPALIVE_TIMEOUT, `nothing from the peer for ${now - this.lastRx} ms`))
        return
      }
      if (this.session.lossy && cfg.idleTimeoutMs > 0 && now - Math.max(this.lastRx, this.lastTx) > cfg.idleTimeoutMs) {
        // Ceph's tick "marks self fault": a lossy session is reset, with the reason recorded.
        this.countFault(new MessengerError(MessengerErrorCode.IDLE_TIMEOUT, `idle for ${now - Math.max(this.lastRx, this.lastTx)} ms`))
        this.shutdown('reset')
        return
      }
      if (cfg.keepaliveIntervalMs > 0) this.sendKeepalive()
      this.tickTimer = cfg.timers.setTimeout(tick, period)
    }
    this.tickTimer = cfg.timers.setTimeout(tick, period)
  }

  private stopTicker (): void {
    if (this.tickTimer !== undefined) {
      this.host.config.timers.clearTimeout(this.tickTimer)
      this.tickTimer = undefined
    }
  }

  perfDump (): Record<string, number | string> {
    return {
      id: this.id,
      peer: formatEntityAddr(this.peerAddr),
      peer_name: this.peerName === undefined ? '' : formatEntityName(this.peerName),
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

/** The server answered WAIT: it is connecting to us and its connection will win the race. */
export class WaitSignal extends Error {
  override readonly name = 'WaitSignal'
  readonly code = 'WAIT'
  constructor () { super('peer replied WAIT (connection race)') }
}

export { Priority }
