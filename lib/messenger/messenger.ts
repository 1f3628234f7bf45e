// The Messenger: binds an Accepter, creates Connections, and publishes what they receive to its
// Dispatchers, fast (inline in the reader) or through the DispatchQueue. Messenger.create()
// picks the transport: 'tcp' (net) or 'memory' (in-process); both share everything else.
import { Message } from '../messages/message.ts'
import { Policy } from '../session/policy.ts'
import { AuthProtocol, EntityType, Priority, ProtocolVersion, entityTypeName } from '../wire/constants.ts'
import { AddrType, blankAddr, formatEntityAddr, isBlankIp, parseEntityAddr } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import type { EntityName } from '../wire/entity-name.ts'
import { formatEntityName, parseEntityName } from '../wire/entity-name.ts'
import { acceptConnection } from './accepter.ts'
import type { AcceptHost } from './accepter.ts'
import { resolveConfig } from './config.ts'
import type { MessengerConfig, MessengerConfigInit } from './config.ts'
import { Connection } from './connection.ts'
import type { ConnectionEvent, ConnectionHost, PolicyThrottles } from './connection.ts'
import type { Dispatcher } from './dispatcher.ts'
import { DispatchQueue } from './dispatch-queue.ts'
import type { QueueItem } from './dispatch-queue.ts'
import { TypeCounts } from './type-counts.ts'
import { errorCode, MessengerError, MessengerErrorCode } from '../protocol/errors.ts'
import { RateLimitedLog, silentLogger } from './logger.ts'
import type { Logger } from './logger.ts'
import type { MsgrSocket } from './socket.ts'
import { Throttle } from './throttle.ts'
import type { DecoderLimits } from '../wire/limits.ts'
import type { DecoderConfig, WireProtocol } from '../protocol/wire-protocol.ts'
import { protocolV1 } from '../protocol/v1/index.ts'
import { PayloadPool } from '../wire/payload-pool.ts'

export interface MessengerOptions {
  /** 'tcp' (default) or 'memory'. */
  type?: 'tcp' | 'memory'
  /** Our entity name: { type, num } or text like 'mon.0', 'client.?'. */
  name: EntityName | string
  /** Address nonce; random by default (Ceph clients), mons use 0. */
  nonce?: number
  /** Policy for peer types without their own (Ceph's default policy is lossless). */
  policy?: Policy
  features?: { supported?: bigint, required?: bigint }
  crc?: { header?: boolean, data?: boolean }
  limits?: Partial<DecoderLimits>
  config?: MessengerConfigInit
  logger?: Logger
  /** Our id as Ceph names it ('a' in mon.a); used in the auth-none authorizer. Default: the num, or '' for clients. */
  entityId?: string
  /** protocol_version between peers of our own type (Ceph's cluster protocol, e.g. 13 for mons). */
  clusterProtocol?: number
}

export interface Listener {
  addr: EntityAddr
  close: () => Promise<void>
}

type Factory = (opts: MessengerOptions) => Messenger
const factories = new Map<string, Factory>()

export function registerMessengerType (type: string, f: Factory): void {
  factories.set(type, f)
}

function toName (n: EntityName | string): EntityName {
  if (typeof n !== 'string') return n
  const p = parseEntityName(n)
  if (p === undefined) throw new TypeError(`bad entity name ${n}`)
  return { type: p.type, num: p.num }
}

function addrKey (a: EntityAddr): string {
  return formatEntityAddr(a)
}

export abstract class Messenger implements ConnectionHost, AcceptHost {
  /** Like Ceph's Messenger::create(type): 'tcp' or 'memory'. */
  static create (opts: MessengerOptions): Messenger {
    const f = factories.get(opts.type ?? 'tcp')
    if (f === undefined) throw new TypeError(`unknown messenger type ${opts.type}`)
    return f(opts)
  }

  readonly name: EntityName
  readonly entityId: string
  readonly nonce: number
  readonly config: MessengerConfig
  readonly log: Logger
  readonly dispatchThrottle: Throttle
  /** Large received payloads are gathered here and reused once their message is put(). */
  readonly payloadPool: PayloadPool | undefined
  /** The wire protocol of this messenger's connections. */
  readonly protocol: WireProtocol = protocolV1
  myAddr: EntityAddr
  private defaultPolicy: Policy
  private readonly policies = new Map<number, Policy>()
  private readonly policyThrottles = new Map<number, { messages?: Throttle, bytes?: Throttle }>()
  private readonly dispatchers: Dispatcher[] = []
  readonly dispatchQueue: DispatchQueue<Message, Connection>
  /** Sessions we can find by peer address: outgoing ones and lossless incoming ones. */
  private readonly sessions = new Map<string, Connection>()
  /** Every live connection. */
  readonly connections = new Set<Connection>()
  private globalSeq = 0
  private readonly clusterProtocol: number
  private listener: Listener | undefined
  private started = false
  private stopping: Promise<void> | undefined
  private stoppedResolve!: () => void
  private readonly stoppedPromise: Promise<void>
  private readonly rateLog = new RateLimitedLog()
  private readonly delayChains = new WeakMap<Connection, Promise<void>>()
  /** Accepted sockets still in the accept handshake (not yet a Connection). */
  private readonly handshaking = new Set<MsgrSocket>()
  readonly counters = {
    msgsIn: 0,
    msgsDispatched: 0,
    fastDispatched: 0,
    unhandled: 0,
    dispatchErrors: 0,
    connectionsAccepted: 0,
    connectionsConnected: 0,
    acceptFailures: 0,
    refusedMaxConnections: 0,
    resets: 0,
    remoteResets: 0,
    /** Received messages not dispatched because their connection had closed. */
    discardedOnClose: 0,
    injectedDelays: 0,
    dispatchLatencySumMs: 0,
    dispatchLatencyMaxMs: 0
  }

  readonly inByType = new TypeCounts()

  constructor (opts: MessengerOptions) {
    this.name = toName(opts.name)
    this.entityId = opts.entityId ?? (this.name.num >= 0 ? String(this.name.num) : '')
    this.nonce = opts.nonce ?? Math.floor(Math.random() * 0xffffffff) >>> 0
    this.config = resolveConfig({
      ...opts.config,
      limits: { ...opts.config?.limits, ...opts.limits },
      ...(opts.crc?.header !== undefined ? { crcHeader: opts.crc.header } : {}),
      ...(opts.crc?.data !== undefined ? { crcData: opts.crc.data } : {})
    })
    this.log = opts.logger ?? silentLogger
    this.myAddr = blankAddr(this.nonce)
    this.clusterProtocol = opts.clusterProtocol ?? (this.name.type === EntityType.MON ? ProtocolVersion.MON : 0)
    let p = opts.policy ?? new Policy()
    if (opts.features?.supported !== undefined) p = p.with({ featuresSupported: opts.features.supported })
    if (opts.features?.required !== undefined) p = p.with({ featuresRequired: opts.features.required })
    this.defaultPolicy = p
    this.dispatchQueue = new DispatchQueue<Message, Connection>({
      deliver: (item) => this.deliver(item),
      onError: (err) => {
        this.counters.dispatchErrors++
        this.log.error('ms', 'dispatcher threw', { err: String(err) })
      },
      throttleBytes: this.config.dispatchThrottleBytes,
      autoStart: false,
      // A dropped message still holds its connection's per-policy throttle units.
      onDiscard: (item) => {
        if (item.kind === 'message') item.message.connection?.releasePolicy(item.message)
      }
    })
    this.dispatchThrottle = this.dispatchQueue.throttle
    if (this.config.payloadPoolBytes > 0) this.payloadPool = new PayloadPool(this.config.payloadPoolBytes)
    this.stoppedPromise = new Promise((resolve) => { this.stoppedResolve = resolve })
  }

  /** Accept connections on the transport at this address (port 0 = any free port). */
  protected abstract listen (addr: EntityAddr): Promise<Listener>
  /** Open a transport connection to a peer. */
  protected abstract dialSocket (addr: EntityAddr, signal?: AbortSignal): Promise<MsgrSocket>

  // ---- setup --------------------------------------------------------------------------------

  setPolicy (peerType: number, policy: Policy): void {
    this.policies.set(peerType, policy)
    this.policyThrottles.delete(peerType)
  }

  setDefaultPolicy (policy: Policy): void {
    this.defaultPolicy = policy
  }

  policyFor (peerType: number): Policy {
    return this.policies.get(peerType) ?? this.defaultPolicy
  }

  addDispatcherHead (d: Dispatcher): void {
    this.dispatchers.unshift(d)
  }

  addDispatcherTail (d: Dispatcher): void {
    this.dispatchers.push(d)
  }

  /** Bind the Accepter: 'v1:127.0.0.1:0', 'v1:[::1]:6789', or an EntityAddr. Returns the bound address. */
  async bind (addr: string | EntityAddr): Promise<EntityAddr> {
    const a = typeof addr === 'string' ? parseEntityAddr(addr) : addr
    if (a === undefined) throw new TypeError(`bad address ${String(addr)}`)
    if (this.listener !== undefined) throw new Error('already bound')
    this.listener = await this.listen(a)
    this.myAddr = { ...this.listener.addr, type: AddrType.LEGACY, nonce: this.nonce }
    this.log.info('ms', 'bound', { addr: formatEntityAddr(this.myAddr) })
    return this.myAddr
  }

  get boundAddr (): EntityAddr | undefined {
    return this.listener === undefined ? undefined : this.myAddr
  }

  /** Ceph's ready(): start the DispatchQueue (the Accepter is accepting since bind). */
  start (): void {
    this.started = true
    this.dispatchQueue.start()
  }

  // ---- ConnectionHost -----------------------------------------------------------------------

  /** How this messenger's decoders are configured; `features`: ours for the peer, if known. */
  decoderConfig (features?: bigint): DecoderConfig {
    const cfg = this.config
    return { features, limits: cfg.limits, crcHeader: cfg.crcHeader, crcData: cfg.crcData, copyBelow: cfg.copyBelow, pool: this.payloadPool }
  }

  learnAddr (seenByPeer: EntityAddr): void {
    if (!isBlankIp(this.myAddr)) return
    // Like Ceph: adopt the IP the peer saw, keep our port (0 for a client) and nonce.
    this.myAddr = { ...seenByPeer, type: AddrType.LEGACY, port: this.myAddr.port, nonce: this.nonce }
    this.log.debug('ms', 'learned my addr', { addr: formatEntityAddr(this.myAddr) })
  }

  nextGlobalSeq (atLeast = 0): number {
    if (atLeast > this.globalSeq) this.globalSeq = atLeast
    return ++this.globalSeq
  }

  protocolVersion (peerType: number, connecting: boolean): number {
    if (peerType === this.name.type) return this.clusterProtocol
    switch (connecting ? peerType : this.name.type) {
      case EntityType.OSD: return ProtocolVersion.OSDC
      case EntityType.MDS: return ProtocolVersion.MDSC
      case EntityType.MON: return ProtocolVersion.MONC
      default: return 0
    }
  }

  authorizerFor (peerType: number): { protocol: number, bytes: Uint8Array } | undefined {
    // Ceph asks its auth client for an authorizer unless a non-mon is talking to a mon (clients
    // authenticate to mons with MAuth messages instead). With auth none it is struct_v 1,
    // EntityName (u32 type + string id), u64 global_id 0.
    if (peerType === EntityType.MON && this.name.type !== EntityType.MON) return undefined
    const id = new TextEncoder().encode(this.entityId)
    const b = new Uint8Array(1 + 4 + 4 + id.length + 8)
    const dv = new DataView(b.buffer)
    b[0] = 1
    dv.setUint32(1, this.name.type, true)
    dv.setUint32(5, id.length, true)
    b.set(id, 9)
    return { protocol: AuthProtocol.NONE, bytes: b }
  }

  dial (addr: EntityAddr, signal?: AbortSignal): Promise<MsgrSocket> {
    return this.dialSocket(addr, signal)
  }

  throttlesFor (peerType: number): PolicyThrottles {
    let t = this.policyThrottles.get(peerType)
    if (t === undefined) {
      const p = this.policyFor(peerType)
      const name = entityTypeName(peerType)
      t = {
        ...(p.throttlerMessages > 0 ? { messages: new Throttle(`msgr_policy_${name}_messages`, p.throttlerMessages) } : {}),
        ...(p.throttlerBytes > 0 ? { bytes: new Throttle(`msgr_policy_${name}_bytes`, p.throttlerBytes) } : {})
      }
      this.policyThrottles.set(peerType, t)
    }
    return t
  }

  lookup (peerAddr: EntityAddr): Connection | undefined {
    return this.sessions.get(addrKey(peerAddr))
  }

  newIncoming (peerAddr: EntityAddr, peerType: number, policy: Policy): Connection {
    const conn = new Connection(this, { peerAddr, peerType, policy, outgoing: false, protocol: this.protocol })
    this.connections.add(conn)
    if (!(policy.server && policy.lossy)) this.sessions.set(addrKey(peerAddr), conn)
    this.counters.connectionsAccepted++
    return conn
  }

  onAcceptFailed (err: unknown): void {
    this.counters.acceptFailures++
    this.logOnce('accept failed', err)
  }

  onClosed (conn: Connection): void {
    this.connections.delete(conn)
    const k = addrKey(conn.peerAddr)
    if (this.sessions.get(k) === conn) this.sessions.delete(k)
  }

  onEvent (kind: ConnectionEvent, conn: Connection): void {
    if (kind === 'reset') this.counters.resets++
    if (kind === 'remoteReset') {
      this.counters.remoteResets++
      this.dispatchQueue.discardQueue(conn.id)
    }
    if (kind === 'connect') this.counters.connectionsConnected++
    this.dispatchQueue.enqueue({ kind, connection: conn, connId: conn.id })
  }

  /** Fast preprocess, then the inbox, fast dispatch, or the DispatchQueue (Ceph's reader path). */
  onMessage (conn: Connection, m: Message): void {
    this.counters.msgsIn++
    this.inByType.inc(m.type)
    for (const d of this.dispatchers) d.msFastPreprocess?.(m)
    const delay = this.config.injectDelay
    if (delay !== undefined && delay.probability > 0 &&
        (delay.types === undefined || delay.types.length === 0 || delay.types.includes(entityTypeName(conn.peerType)))) {
      // Delay before dispatch while keeping the connection's order: chain behind its last delay.
      const prev = this.delayChains.get(conn) ?? Promise.resolve()
      const ms = this.config.random() < delay.probability ? this.config.random() * delay.maxSeconds * 1000 : 0
      if (ms > 0) this.counters.injectedDelays++
      const next = prev.then(() => ms > 0 ? new Promise<void>((resolve) => { setTimeout(resolve, ms) }) : undefined).then(() => { this.route(conn, m) })
      this.delayChains.set(conn, next)
      return
    }
    this.route(conn, m)
  }

  private route (conn: Connection, m: Message): void {
    if (conn.deliverToInbox(m)) return
    for (const d of this.dispatchers) {
      if (d.msCanFastDispatch?.(m) === true && d.msFastDispatch !== undefined) {
        this.counters.fastDispatched++
        try {
          d.msFastDispatch(m)
        } catch (e) {
          this.counters.dispatchErrors++
          this.logOnce('fast dispatch threw', e)
        }
        conn.release(m)
        return
      }
    }
    const bytes = m.payloadLength
    const ok = this.dispatchQueue.enqueue({ kind: 'message', message: m, priority: m.priority, connId: conn.id, cost: bytes, bytes })
    if (!ok) conn.releasePolicy(m)
  }

  private deliver (item: QueueItem<Message, Connection>): void | Promise<void> {
    if (item.kind === 'message') {
      const m = item.message
      const conn = m.connection
      if (conn === undefined || conn.isClosed) {
        // Like Ceph's AsyncConnection::_stop (discard_queue): nothing of a closed (marked-down or
        // reset) connection is dispatched. The queue gives the dispatch bytes back on return.
        this.counters.discardedOnClose++
        conn?.releasePolicy(m)
        return
      }
      const t0 = performance.now()
      for (let i = 0; i < this.dispatchers.length; i++) {
        const d = this.dispatchers[i]
        if (d.msDispatch === undefined) continue
        const r = d.msDispatch(m)
        if (r === true) return this.dispatched(m, t0)
        if (r !== false) return this.finishAsync(m, t0, r, i)
      }
      return this.unhandled(m, t0)
    }
    const conn = item.connection
    for (const d of this.dispatchers) {
      switch (item.kind) {
        case 'connect': d.msHandleConnect?.(conn); break
        case 'accept': d.msHandleAccept?.(conn); break
        case 'reset': d.msHandleReset?.(conn); break
        case 'remoteReset': d.msHandleRemoteReset?.(conn); break
        case 'refused': d.msHandleRefused?.(conn); break
      }
    }
  }

  private async finishAsync (m: Message, t0: number, first: Promise<boolean>, index: number): Promise<void> {
    try {
      if (await first) { this.dispatched(m, t0); return }
      for (let i = index + 1; i < this.dispatchers.length; i++) {
        const d = this.dispatchers[i]
        if (d.msDispatch === undefined) continue
        if (await d.msDispatch(m)) { this.dispatched(m, t0); return }
      }
      this.unhandled(m, t0)
    } catch (e) {
      m.connection?.releasePolicy(m)
      throw e
    }
  }

  private dispatched (m: Message, t0: number): void {
    const dt = performance.now() - t0
    this.counters.msgsDispatched++
    this.counters.dispatchLatencySumMs += dt
    if (dt > this.counters.dispatchLatencyMaxMs) this.counters.dispatchLatencyMaxMs = dt
    m.connection?.releasePolicy(m)
  }

  private unhandled (m: Message, t0: number): void {
    this.counters.unhandled++
    this.dispatched(m, t0)
    this.counters.msgsDispatched--
    if (this.rateLog.admit('unhandled:' + m.type) !== undefined) {
      this.log.info('ms', 'unhandled message', { type: m.type, type_name: m.typeName, from: m.src === undefined ? '' : formatEntityName(m.src) })
    }
  }

  private logOnce (what: string, err: unknown): void {
    const cause = `${what}:${errorCode(err)}`
    const suppressed = this.rateLog.admit(cause)
    if (suppressed === undefined) return
    this.log.info('ms', what, { code: errorCode(err), err: String((err as Error)?.message ?? err), suppressed })
  }

  // ---- public API ---------------------------------------------------------------------------

  /** Get (or create) the connection to a peer; reused for the same peer address. */
  connectTo (peerType: number, addr: string | EntityAddr): Connection {
    if (this.stopping !== undefined) throw new MessengerError(MessengerErrorCode.CLOSED, 'messenger is shutting down')
    const a = typeof addr === 'string' ? parseEntityAddr(addr) : addr
    if (a === undefined) throw new TypeError(`bad address ${String(addr)}`)
    const peerAddr: EntityAddr = { ...a, type: AddrType.LEGACY }
    const existing = this.sessions.get(addrKey(peerAddr))
    if (existing !== undefined && !existing.isClosed) return existing
    const conn = new Connection(this, { peerAddr, peerType, policy: this.policyFor(peerType), outgoing: true, protocol: this.protocol })
    this.connections.add(conn)
    this.sessions.set(addrKey(peerAddr), conn)
    conn.start()
    return conn
  }

  /** Queue a message on a connection (or on the connection to an address). */
  sendMessage (m: Message, to: Connection | { peerType: number, addr: string | EntityAddr }): boolean {
    const conn = to instanceof Connection ? to : this.connectTo(to.peerType, to.addr)
    return conn.send(m)
  }

  markDown (conn: Connection): void {
    conn.markDown()
  }

  markDownAll (): void {
    for (const c of [...this.connections]) c.markDown()
  }

  /** Graceful stop: stop accepting, let queued messages go out (up to `drainMs`), close all. */
  shutdown (drainMs = 2000): Promise<void> {
    if (this.stopping !== undefined) return this.stopping
    this.stopping = (async () => {
      // Stop accepting now, but await the close last: a TCP listener only finishes closing once
      // every socket it accepted is gone, which is what markDownAll() below does.
      const closing = this.listener?.close().catch(() => {})
      const open = [...this.connections].filter((c) => c.isOpen)
      if (open.length > 0 && drainMs > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined
        await Promise.race([
          Promise.all(open.map(async (c) => { await c.flushed() })),
          new Promise<void>((resolve) => { timer = setTimeout(resolve, drainMs) })
        ])
        clearTimeout(timer)
      }
      this.markDownAll()
      for (const sock of this.handshaking) sock.destroy()
      await closing
      if (this.started) {
        let timer: ReturnType<typeof setTimeout> | undefined
        await Promise.race([this.dispatchQueue.drain(), new Promise<void>((resolve) => { timer = setTimeout(resolve, drainMs) })])
        clearTimeout(timer)
      }
      await this.dispatchQueue.shutdown()
      this.stoppedResolve()
    })()
    return this.stopping
  }

  /** Resolves once shutdown() has finished. */
  wait (): Promise<void> {
    return this.stoppedPromise
  }

  perfDump (): Record<string, unknown> {
    let out = 0
    let outBytes = 0
    let inBytes = 0
    const conns = [...this.connections]
    const sum = (k: 'msgsOut' | 'bytesOut' | 'bytesIn' | 'faults' | 'duplicates' | 'acksIn' | 'acksOut' | 'keepalivesIn' | 'keepalivesOut' | 'throttleWaits' | 'reconnects'): number => conns.reduce((a, c) => a + c.counters[k], 0)
    out = sum('msgsOut')
    outBytes = sum('bytesOut')
    inBytes = sum('bytesIn')
    const inTypes = this.inByType.toRecord()
    return {
      name: formatEntityName(this.name),
      addr: formatEntityAddr(this.myAddr),
      msgr_recv_messages: this.counters.msgsIn,
      msgr_recv_bytes: inBytes,
      msgr_send_messages: out,
      msgr_send_bytes: outBytes,
      msgr_recv_messages_by_type: inTypes,
      msgr_active_connections: this.connections.size,
      msgr_created_connections: this.counters.connectionsAccepted + this.counters.connectionsConnected,
      msgr_accepted: this.counters.connectionsAccepted,
      msgr_accept_failures: this.counters.acceptFailures,
      msgr_dispatched: this.counters.msgsDispatched,
      msgr_fast_dispatched: this.counters.fastDispatched,
      msgr_unhandled: this.counters.unhandled,
      msgr_dispatch_errors: this.counters.dispatchErrors,
      msgr_resets: this.counters.resets,
      msgr_remote_resets: this.counters.remoteResets,
      msgr_discarded_on_close: this.counters.discardedOnClose,
      msgr_faults: sum('faults'),
      msgr_reconnects: sum('reconnects'),
      msgr_duplicates_dropped: sum('duplicates'),
      msgr_acks_in: sum('acksIn'),
      msgr_acks_out: sum('acksOut'),
      msgr_keepalives_in: sum('keepalivesIn'),
      msgr_keepalives_out: sum('keepalivesOut'),
      msgr_throttle_waits: sum('throttleWaits'),
      msgr_dispatch_latency_avg_ms: this.counters.msgsDispatched === 0 ? 0 : this.counters.dispatchLatencySumMs / this.counters.msgsDispatched,
      msgr_dispatch_latency_max_ms: this.counters.dispatchLatencyMaxMs,
      dispatch_queue: this.dispatchQueue.perfDump(),
      payload_pool: this.payloadPool?.stats() ?? null
    }
  }

  /** Used by the Accepter: accept one transport connection, within maxConnections. */
  protected accept (sock: MsgrSocket): void {
    if (this.stopping !== undefined) { sock.destroy(); return }
    const max = this.config.maxConnections
    if (max > 0 && this.connections.size >= max) {
      this.counters.refusedMaxConnections++
      this.logOnce('too many connections', new MessengerError(MessengerErrorCode.TOO_MANY_CONNECTIONS, `${max} connections`))
      sock.destroy()
      return
    }
    this.handshaking.add(sock)
    void acceptConnection(this, this.protocol, sock).finally(() => { this.handshaking.delete(sock) })
  }
}

export { Priority, Message, isBlankIp }
