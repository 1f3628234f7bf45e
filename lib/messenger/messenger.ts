// The Messenger: binds an Accepter, creates Connections, and publishes what they receive to its
// Dispatchers, fast (inline in the reader) or through the DispatchQueue. Messenger.create()
// picks the transport: 'tcp' (net) or 'memory' (in-process); both share everything else.
import { Message } from '../messages/message.ts'
import { Policy } from '../session/policy.ts'
import { EntityType, Priority, ProtocolVersion } from '../wire/constants.ts'
import { AddrType, blankAddr, formatEntityAddr, isBlankIp } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import type { EntityName } from '../wire/entity-name.ts'
import { acceptConnection } from './accepter.ts'
import type { AcceptHost } from './accepter.ts'
import { resolveConfig } from './config.ts'
import type { MessengerConfig } from './config.ts'
import { Connection } from './connection.ts'
import type { ConnectionEvent, ConnectionHost, PolicyThrottles } from './connection.ts'
import type { Dispatcher } from './dispatch/dispatcher.ts'
import { DispatchQueue } from './dispatch/dispatch-queue.ts'
import { DispatchRouter } from './dispatch/router.ts'
import { ConnectionTotals } from './perf.ts'
import { MessengerError, MessengerErrorCode } from '../protocol/errors.ts'
import { RateLimitedLog, silentLogger } from './logger.ts'
import type { Logger } from './logger.ts'
import type { MsgrSocket } from './socket.ts'
import { Throttle } from './throttle.ts'
import type { DecoderConfig, WireProtocol } from '../protocol/wire-protocol.ts'
import { protocolV1 } from '../protocol/v1/index.ts'
import { authNoneAuthorizer } from '../protocol/v1/authorizer.ts'
import { protocolV2 } from '../protocol/v2/index.ts'
import type { ProtocolV2 } from '../protocol/v2/index.ts'
import { NoneAuthClient } from '../auth/auth-none.ts'
import { MonAuthServer } from '../auth/cephx-provider.ts'
import { checkBindAddrs, isMsgr2, parseAddrs, pickConnectAddr } from './addresses.ts'
import type { AddrInput } from './addresses.ts'
import { messengerPerf } from './perf.ts'
import { PolicyTable } from './policies.ts'
import { PayloadPool } from '../wire/payload-pool.ts'
import { toName } from './options.ts'
import type { Listener, MessengerOptions } from './options.ts'
import { protocolVersionFor } from '../protocol/v1/protocol-version.ts'

export type { Listener, MessengerAuth, MessengerOptions } from './options.ts'

type Factory = (opts: MessengerOptions) => Messenger
const factories = new Map<string, Factory>()

export function registerMessengerType (type: string, f: Factory): void {
  factories.set(type, f)
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
  /** The wire protocols: v1 for legacy addresses, v2 (msgr2.1) for v2 ones. */
  readonly protocols: { readonly v1: WireProtocol, readonly v2: ProtocolV2 }
  /** Our address in its v1 form (what the v1 handshake sends; learnt from a peer when blank). */
  myAddr: EntityAddr
  /** The bound addrvec, v2 entries first when both are bound (empty until bind). */
  myAddrs: EntityAddr[] = []
  private readonly policies: PolicyTable
  /** Where received messages and connection events go (fast dispatch, the queue, the dispatchers). */
  readonly router: DispatchRouter
  private readonly totals = new ConnectionTotals()
  readonly dispatchQueue: DispatchQueue<Message, Connection>
  /** Sessions we can find by peer address: outgoing ones and lossless incoming ones. */
  private readonly sessions = new Map<string, Connection>()
  /** Every live connection. */
  readonly connections = new Set<Connection>()
  private globalSeq = 0
  private readonly clusterProtocol: number
  private readonly listeners: Listener[] = []
  private started = false
  private stopping: Promise<void> | undefined
  private stoppedResolve!: () => void
  private readonly stoppedPromise: Promise<void>
  private readonly rateLog = new RateLimitedLog()
  /** Accepted sockets still in the accept handshake (not yet a Connection). */
  private readonly handshaking = new Set<MsgrSocket>()
  readonly counters = {
    connectionsAccepted: 0,
    connectionsConnected: 0,
    acceptFailures: 0,
    refusedMaxConnections: 0,
    resets: 0,
    remoteResets: 0
  }

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
    this.policies = new PolicyTable(p)
    this.router = new DispatchRouter(this.config, this.log, this.rateLog)
    this.dispatchQueue = new DispatchQueue<Message, Connection>({
      deliver: (item) => this.router.deliver(item),
      onError: (err) => { this.router.failed(err) },
      throttleBytes: this.config.dispatchThrottleBytes,
      concurrency: this.config.dispatchConcurrency,
      timeoutMs: this.config.dispatchTimeoutMs,
      autoStart: false,
      // A dropped message still holds its connection's per-policy throttle units.
      onDiscard: (item) => {
        if (item.kind === 'message') item.message.connection?.releasePolicy(item.message)
      }
    })
    this.router.attach(this.dispatchQueue)
    this.dispatchThrottle = this.dispatchQueue.throttle
    if (this.config.payloadPoolBytes > 0) this.payloadPool = new PayloadPool(this.config.payloadPoolBytes)
    this.stoppedPromise = new Promise((resolve) => { this.stoppedResolve = resolve })
    const auth = opts.auth
    this.protocols = {
      v1: protocolV1,
      v2: protocolV2({
        name: () => this.name,
        authClient: auth?.client ?? (() => new NoneAuthClient({ type: this.name.type, id: this.entityId })),
        authServer: auth?.server ?? new MonAuthServer({ allowNone: true }),
        addrs: () => this.myAddrs.length > 0 ? this.myAddrs : [this.myAddr]
      })
    }
  }

  protocolFor (addr: EntityAddr): WireProtocol {
    return isMsgr2(addr) ? this.protocols.v2 : this.protocols.v1
  }

  /** Accept connections on the transport at this address (port 0 = any free port). */
  protected abstract listen (addr: EntityAddr, onSocket: (sock: MsgrSocket) => void): Promise<Listener>
  /** Open a transport connection to a peer. */
  protected abstract dialSocket (addr: EntityAddr, signal?: AbortSignal): Promise<MsgrSocket>

  // ---- setup --------------------------------------------------------------------------------

  setPolicy (peerType: number, policy: Policy): void {
    this.policies.set(peerType, policy)
  }

  setDefaultPolicy (policy: Policy): void {
    this.policies.setDefault(policy)
  }

  policyFor (peerType: number): Policy {
    return this.policies.get(peerType)
  }

  addDispatcherHead (d: Dispatcher): void {
    this.router.dispatchers.unshift(d)
  }

  addDispatcherTail (d: Dispatcher): void {
    this.router.dispatchers.push(d)
  }

  /**
   * Bind the Accepter: 'v1:127.0.0.1:0', 'v2:[::1]:3300', an addrvec '[v2:H:3300,v1:H:6789]', or
   * EntityAddrs (port 0 = any free port). Returns the first bound address; `myAddrs` has them all.
   */
  async bind (addr: AddrInput): Promise<EntityAddr> {
    const want = parseAddrs(addr)
    if (this.listeners.length > 0) throw new Error('already bound')
    checkBindAddrs(want, { msgr1: this.config.bindMsgr1, msgr2: this.config.bindMsgr2 })
    try {
      for (const a of want) {
        const type = isMsgr2(a) ? AddrType.MSGR2 : AddrType.LEGACY
        const protocol = type === AddrType.MSGR2 ? this.protocols.v2 : this.protocols.v1
        let local: EntityAddr = blankAddr(this.nonce)
        const l = await this.listen(a, (sock) => { this.accept(sock, protocol, local) })
        local = { ...l.addr, type, nonce: this.nonce }
        this.listeners.push(l)
        this.myAddrs.push(local)
      }
    } catch (e) {
      await Promise.all(this.listeners.splice(0).map(async (l) => { await l.close() }))
      this.myAddrs = []
      throw e
    }
    // v2 entries first, as Ceph orders an addrvec; the v1 form of the first v1 one (or of the
    // first v2 one, when only v2 is bound) is what v1 handshakes carry.
    this.myAddrs.sort((x, y) => Number(isMsgr2(y)) - Number(isMsgr2(x)))
    const v1 = this.myAddrs.find((a) => !isMsgr2(a)) ?? this.myAddrs[0]
    this.myAddr = { ...v1, type: AddrType.LEGACY }
    this.log.info('ms', 'bound', { addrs: this.myAddrs.map((a) => formatEntityAddr(a)).join(',') })
    return this.myAddrs[0]
  }

  get boundAddr (): EntityAddr | undefined {
    return this.listeners.length === 0 ? undefined : this.myAddrs[0]
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
    const ip = { family: seenByPeer.family, ip: seenByPeer.ip, ...(seenByPeer.scopeId !== undefined ? { flowInfo: seenByPeer.flowInfo, scopeId: seenByPeer.scopeId } : {}) }
    this.myAddr = { ...this.myAddr, ...ip }
    this.myAddrs = this.myAddrs.map((a) => isBlankIp(a) ? { ...a, ...ip } : a)
    this.log.debug('ms', 'learned my addr', { addr: formatEntityAddr(this.myAddr) })
  }

  nextGlobalSeq (atLeast = 0): number {
    if (atLeast > this.globalSeq) this.globalSeq = atLeast
    return ++this.globalSeq
  }

  protocolVersion (peerType: number, connecting: boolean): number {
    return protocolVersionFor(this.name.type, this.clusterProtocol, peerType, connecting)
  }

  authorizerFor (peerType: number): { protocol: number, bytes: Uint8Array } | undefined {
    return authNoneAuthorizer(this.name.type, this.entityId, peerType)
  }

  dial (addr: EntityAddr, signal?: AbortSignal): Promise<MsgrSocket> {
    return this.dialSocket(addr, signal)
  }

  throttlesFor (peerType: number): PolicyThrottles {
    return this.policies.throttlesFor(peerType)
  }

  lookup (peerAddr: EntityAddr): Connection | undefined {
    return this.sessions.get(addrKey(peerAddr))
  }

  newIncoming (peerAddr: EntityAddr, peerType: number, policy: Policy, protocol: WireProtocol): Connection {
    const conn = new Connection(this, { peerAddr, peerType, policy, outgoing: false, protocol })
    this.connections.add(conn)
    if (!(policy.server && policy.lossy)) this.sessions.set(addrKey(peerAddr), conn)
    this.counters.connectionsAccepted++
    return conn
  }

  onAcceptFailed (err: unknown): void {
    this.counters.acceptFailures++
    this.router.logOnce('accept failed', err)
  }

  onClosed (conn: Connection): void {
    if (this.connections.delete(conn)) this.totals.retire(conn.counters)
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
    this.router.onEvent(kind, conn)
  }

  onMessage (conn: Connection, m: Message): void {
    this.router.onMessage(conn, m)
  }

  // ---- public API ---------------------------------------------------------------------------

  /**
   * Get (or create) the connection to a peer; reused for the same peer address. Given an addrvec
   * (or a v2 address), msgr2 is used when enabled and offered, v1 otherwise.
   */
  connectTo (peerType: number, addr: AddrInput): Connection {
    if (this.stopping !== undefined) throw new MessengerError(MessengerErrorCode.CLOSED, 'messenger is shutting down')
    const peerAddr = pickConnectAddr(parseAddrs(addr), { msgr1: this.config.bindMsgr1, msgr2: this.config.bindMsgr2 })
    const existing = this.sessions.get(addrKey(peerAddr))
    if (existing !== undefined && !existing.isClosed) return existing
    const conn = new Connection(this, { peerAddr, peerType, policy: this.policyFor(peerType), outgoing: true, protocol: this.protocolFor(peerAddr) })
    this.connections.add(conn)
    this.sessions.set(addrKey(peerAddr), conn)
    conn.start()
    return conn
  }

  /** Queue a message on a connection (or on the connection to an address). */
  sendMessage (m: Message, to: Connection | { peerType: number, addr: AddrInput }): boolean {
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
      const closing = Promise.all(this.listeners.map(async (l) => { await l.close().catch(() => {}) }))
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
    return messengerPerf({
      name: this.name,
      addr: this.myAddr,
      connections: this.totals.sum(this.connections),
      live: this.connections.size,
      counters: this.counters,
      router: this.router,
      dispatchQueue: this.dispatchQueue,
      payloadPool: this.payloadPool
    })
  }

  /** Used by the Accepter: accept one transport connection, within maxConnections. */
  protected accept (sock: MsgrSocket, protocol: WireProtocol, local: EntityAddr): void {
    if (this.stopping !== undefined) { sock.destroy(); return }
    const max = this.config.maxConnections
    if (max > 0 && this.connections.size >= max) {
      this.counters.refusedMaxConnections++
      this.router.logOnce('too many connections', new MessengerError(MessengerErrorCode.TOO_MANY_CONNECTIONS, `${max} connections`))
      sock.destroy()
      return
    }
    this.handshaking.add(sock)
    void acceptConnection(this, protocol, sock, local).finally(() => { this.handshaking.delete(sock) })
  }
}

export { Priority, Message, isBlankIp }
