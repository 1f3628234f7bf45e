// A one-mon "cluster" that answers clients the way a Pacific mon does with auth none: the
// Monitor is a Dispatcher on its own Messenger (Ceph's Monitor: init → add_dispatcher_tail →
// ready), and msDispatch → dispatchOp → handlePing / handleAuth / handleGetMap. Replies go
// through conn.send(), i.e. onto the connection's out_q, written by its writer.
//
//   const mon = new Monitor({ id: 'a', addr: 'v1:127.0.0.1:0' })
//   const addr = await mon.init()      // bound, dispatching
//   ...
//   await mon.shutdown()
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { MAuthReply } from '../messages/auth-reply.ts'
import { MAuth } from '../messages/auth.ts'
import type { Message, MessageConnection } from '../messages/message.ts'
import { MMonGetMap } from '../messages/mon-get-map.ts'
import { MMonMap, createMonMap } from '../messages/mon-map.ts'
import type { MonMap } from '../messages/mon-map.ts'
import { MPing } from '../messages/ping.ts'
import type { Connection } from '../messenger/connection.ts'
import type { Dispatcher } from '../messenger/dispatch/dispatcher.ts'
import { RateLimitedLog, silentLogger } from '../messenger/logger.ts'
import type { Logger } from '../messenger/logger.ts'
import { Messenger } from '../messenger/messenger.ts'
import type { MessengerConfigInit } from '../messenger/config.ts'
import '../messenger/tcp-messenger.ts'
import '../messenger/memory-messenger.ts'
import { Policy } from '../session/policy.ts'
import { AuthProtocol, EntityType, Priority, entityTypeName, msgTypeName } from '../wire/constants.ts'
import { AddrType, formatEntityAddr, parseEntityAddr } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import { formatEntityName } from '../wire/entity-name.ts'
import { Feature, PACIFIC_MON_REQUIRED_FROM_CLIENTS, PACIFIC_SUPPORTED } from '../wire/features.ts'
import { Exposition, Histogram, LATENCY_BUCKETS, metricName } from './metrics.ts'
import { pongText } from './pong.ts'
import type { FeaturePeer } from './pong.ts'

/** Linux errno values a mon puts in MAuthReply.result (negated). */
const EINVAL = 22
const ENOTSUP = 95

/** Where the CLI's mon listens by default: Ceph's legacy (msgr v1) mon port on loopback. */
export const DEFAULT_MON_ADDR = 'v1:127.0.0.1:6789'

export interface MonitorOptions {
  /** The mon's id: 'a' makes it mon.a (its wire name is mon.<rank>). Default 'a'. */
  id?: string
  /** Its rank, also the num of its wire name (mon.0). Default 0. */
  rank?: number
  /** Where to listen. Default v1:127.0.0.1:6789; port 0 = any free port. */
  addr?: string | EntityAddr
  /** 'tcp' (default) or 'memory' (in-process, for tests). */
  type?: 'tcp' | 'memory'
  /** Cluster fsid. Default: a random uuid, as `monmaptool --create` makes one. */
  fsid?: string
  /** Connection features we support. Default: what Pacific advertises. */
  features?: bigint
  /** Features a client must have, else it gets TAG_FEATURES. Default: a Pacific mon's (CRUSH tunables) + NOSRCADDR. */
  requiredClientFeatures?: bigint
  logger?: Logger
  config?: MessengerConfigInit
  /** mon_status.election_epoch; a freshly started real single mon reports 3. */
  electionEpoch?: number
  /** The first global_id handed out. */
  firstGlobalId?: number
}

export interface MonitorCounters {
  pingsAnswered: number
  authRequests: number
  /** MAuth answered with an error (no supported method, undecodable payload). */
  authFailures: number
  getMapRequests: number
  monmapsSent: number
  /** Messages we have no handler for: logged and dropped. */
  dropped: number
  /** Client connections accepted since start. */
  clientsAccepted: number
}

/** What we keep per client session. */
interface MonSession {
  globalId: bigint
}

export class Monitor implements Dispatcher {
  readonly id: string
  readonly rank: number
  readonly fsid: string
  readonly messenger: Messenger
  readonly log: Logger
  readonly features: bigint
  readonly electionEpoch: number
  readonly counters: MonitorCounters = {
    pingsAnswered: 0, authRequests: 0, authFailures: 0, getMapRequests: 0, monmapsSent: 0, dropped: 0, clientsAccepted: 0
  }

  /** The text of the last pong sent (what `ceph ping` prints). */
  lastPong: string | undefined
  /** Receipt of a request → its reply queued (includes time waiting in the DispatchQueue). */
  readonly dispatchLatency = new Histogram(LATENCY_BUCKETS)
  private readonly bindAddr: EntityAddr
  private readonly sessions = new WeakMap<MessageConnection, MonSession>()
  private readonly rateLog = new RateLimitedLog()
  private nextGlobalId: bigint
  private map: MonMap | undefined
  private startedAt = 0
  private stopping: Promise<void> | undefined

  constructor (opts: MonitorOptions = {}) {
    this.id = opts.id ?? 'a'
    this.rank = opts.rank ?? 0
    this.fsid = opts.fsid ?? randomUUID()
    this.log = opts.logger ?? silentLogger
    this.features = opts.features ?? PACIFIC_SUPPORTED
    this.electionEpoch = opts.electionEpoch ?? 3
    this.nextGlobalId = BigInt(opts.firstGlobalId ?? 4100)
    const a = typeof opts.addr === 'object' ? opts.addr : parseEntityAddr(opts.addr ?? DEFAULT_MON_ADDR)
    if (a === undefined) throw new TypeError(`bad mon address ${String(opts.addr)}`)
    this.bindAddr = { ...a, type: AddrType.LEGACY, nonce: 0 }
    const required = opts.requiredClientFeatures ?? (PACIFIC_MON_REQUIRED_FROM_CLIENTS | Feature.NOSRCADDR)
    // A mon is a stateless server for clients: lossy, never reconnects, no session to resume.
    this.messenger = Messenger.create({
      type: opts.type ?? 'tcp',
      name: { type: EntityType.MON, num: this.rank },
      nonce: 0,
      policy: Policy.statelessServer({ featuresSupported: this.features }),
      logger: this.log,
      ...(opts.config !== undefined ? { config: opts.config } : {})
    })
    this.messenger.setPolicy(EntityType.CLIENT, Policy.statelessServer({ featuresSupported: this.features, featuresRequired: required }))
  }

  /** Bind, build our monmap around the bound address, and start dispatching (Ceph's init + ready). */
  async init (): Promise<EntityAddr> {
    if (this.map !== undefined) throw new Error('Monitor.init() called twice')
    const addr = await this.messenger.bind(this.bindAddr)
    this.map = createMonMap({
      fsid: this.fsid,
      mons: [{ name: this.id, addrs: [{ ...addr, type: AddrType.LEGACY, nonce: 0 }], priority: 0, weight: 0, crushLocation: {} }]
    })
    this.startedAt = performance.now()
    this.messenger.addDispatcherTail(this)
    this.messenger.start()
    this.log.info('mon', 'ready', { name: `mon.${this.id}`, rank: this.rank, addr: formatEntityAddr(addr), fsid: this.fsid })
    return addr
  }

  /** Our listening address (after init). */
  get addr (): EntityAddr {
    const a = this.messenger.boundAddr
    if (a === undefined) throw new Error('Monitor not initialised')
    return a
  }

  get monmap (): MonMap {
    if (this.map === undefined) throw new Error('Monitor not initialised')
    return this.map
  }

  /** Stop accepting, let queued replies go out (up to drainMs), close every connection. */
  shutdown (drainMs = 2000): Promise<void> {
    if (this.stopping === undefined) {
      this.log.info('mon', 'shutting down', { name: `mon.${this.id}` })
      const msgr = this.messenger
      this.stopping = (async () => {
        const done = msgr.shutdown(drainMs)
        // Messenger.shutdown() awaits the TCP listener's close() before it marks connections
        // down, and net.Server.close() waits for every accepted socket to end: with a client
        // still connected it would never finish. So drain and close the connections here.
        const open = [...msgr.connections].filter((c) => c.isOpen)
        let timer: ReturnType<typeof setTimeout> | undefined
        await Promise.race([
          Promise.all(open.map((c) => c.flushed())),
          new Promise<void>((resolve) => { timer = setTimeout(resolve, drainMs) })
        ])
        clearTimeout(timer)
        msgr.markDownAll()
        await done
      })()
    }
    return this.stopping
  }

  /** Client connections that are open right now. */
  connectedClients (): number {
    let n = 0
    for (const c of this.messenger.connections) if (c.peerType === EntityType.CLIENT && c.isOpen) n++
    return n
  }

  // ---- Dispatcher ------------------------------------------------------------------------

  msDispatch (m: Message): boolean {
    return this.dispatchOp(m)
  }

  msHandleAccept (conn: Connection): void {
    if (conn.peerType === EntityType.CLIENT) this.counters.clientsAccepted++
    this.log.debug('mon', 'accepted', { conn: conn.id, peer: formatEntityAddr(conn.peerAddr), type: entityTypeName(conn.peerType), features: '0x' + conn.features.toString(16) })
  }

  msHandleReset (conn: Connection): void {
    // The session (and its global_id) goes with the connection: the client is lossy too.
    this.sessions.delete(conn)
    this.log.debug('mon', 'session reset', { conn: conn.id, peer: formatEntityAddr(conn.peerAddr) })
  }

  // ---- ops -------------------------------------------------------------------------------

  /** Route one message to its handler. Always true: unknown messages are ours to drop. */
  dispatchOp (m: Message): boolean {
    const conn = m.connection
    if (conn === undefined) return true
    if (m instanceof MPing) this.handlePing(m, conn)
    else if (m instanceof MAuth) this.handleAuth(m, conn)
    else if (m instanceof MMonGetMap) this.handleGetMap(m, conn)
    else {
      this.counters.dropped++
      // Rate-limited: a peer sending junk must not flood the log.
      const suppressed = this.rateLog.admit(`drop:${m.type}`)
      if (suppressed !== undefined) {
        this.log.info('mon', 'dropping unexpected message', { type: m.type, type_name: msgTypeName(m.type), from: formatEntityName(m.src), conn: conn.id, suppressed })
      }
      return true
    }
    if (m.recvStamp > 0) this.dispatchLatency.observe((performance.now() - m.recvStamp) / 1000)
    return true
  }

  handlePing (m: MPing, conn: MessageConnection): void {
    const text = this.pong()
    this.lastPong = text
    const reply = new MPing({ payloadText: text, priority: Priority.HIGH })
    // A real mon pre-sets the pong's payload, so its header says compat_version 0. Encoding it
    // here does the same: the writer only fills in compat_version for messages it encodes.
    reply.encodePayload(conn.features)
    conn.send(reply)
    this.counters.pingsAnswered++
    this.log.debug('mon', 'pong', { conn: conn.id, from: formatEntityName(m.src), bytes: reply.front.length })
  }

  handleAuth (m: MAuth, conn: MessageConnection): void {
    this.counters.authRequests++
    const fail = (result: number, why: string): void => {
      this.counters.authFailures++
      this.log.info('mon', 'auth failed', { conn: conn.id, result, why })
      conn.send(this.authReply({ protocol: AuthProtocol.UNKNOWN, result: -result, globalId: 0n }))
    }
    let session = this.sessions.get(conn)
    if (m.protocol === AuthProtocol.UNKNOWN) {
      // The negotiation round: the client lists the methods it can do; we only do "none".
      let methods: number[]
      try {
        methods = m.negotiation?.methods ?? []
      } catch (e) {
        fail(EINVAL, `undecodable negotiation payload: ${(e as Error).message}`)
        return
      }
      if (!methods.includes(AuthProtocol.NONE)) {
        fail(ENOTSUP, `no supported method in [${methods.join(',')}]`)
        return
      }
    } else if (m.protocol !== AuthProtocol.NONE || session === undefined) {
      fail(ENOTSUP, `protocol ${m.protocol} without a negotiated session`)
      return
    }
    if (session === undefined) {
      session = { globalId: this.nextGlobalId++ }
      this.sessions.set(conn, session)
    }
    // With auth none the first round completes: the reply, then our monmap, like a real mon.
    conn.send(this.authReply({ protocol: AuthProtocol.NONE, result: 0, globalId: session.globalId }))
    this.sendMonMap(conn)
    this.log.debug('mon', 'authenticated', { conn: conn.id, global_id: Number(session.globalId) })
  }

  handleGetMap (_m: MMonGetMap, conn: MessageConnection): void {
    this.counters.getMapRequests++
    this.sendMonMap(conn)
  }

  private authReply (f: { protocol: number, result: number, globalId: bigint }): MAuthReply {
    // Header as a real mon writes it: priority HIGH, version 1, compat 1.
    return new MAuthReply({ ...f, resultBl: new Uint8Array(0), resultMsg: '', priority: Priority.HIGH, version: 1, compatVersion: 1 })
  }

  private sendMonMap (conn: MessageConnection): void {
    const mm = new MMonMap({ monmap: this.monmap, priority: Priority.HIGH, version: 1, compatVersion: 1 })
    // Encoded for this peer's features (an old client gets an old layout), as Ceph does; done
    // here so that the compat_version set above is the one that goes out.
    mm.encodePayload(conn.features)
    conn.send(mm)
    this.counters.monmapsSent++
  }

  // ---- status ----------------------------------------------------------------------------

  /** The pong text: health and mon_status as pretty JSON, shaped like a real mon's. */
  pong (): string {
    // The pong changes only when quorum_age ticks over or clients come and go; building it walks
    // every connection, so reuse it within that window (1 000 clients pinging made it O(n^2)).
    const age = Math.floor((performance.now() - this.startedAt) / 1000)
    const key = `${age}/${this.messenger.connections.size}`
    if (this.pongCache !== undefined && this.pongCache.key === key) return this.pongCache.text
    const text = this.buildPong(age)
    this.pongCache = { key, text }
    return text
  }

  private pongCache: { key: string, text: string } | undefined

  private buildPong (quorumAgeSec: number): string {
    const peers: FeaturePeer[] = [{ type: EntityType.MON, features: this.features }]
    for (const c of this.messenger.connections) if (c.isOpen) peers.push({ type: c.peerType, features: c.features })
    return pongText({
      name: this.id,
      rank: this.rank,
      electionEpoch: this.electionEpoch,
      quorumAgeSec,
      features: this.features,
      monmap: this.monmap,
      peers
    })
  }

  /** Prometheus text: our counters, the messenger's perf counters, the dispatch latency histogram. */
  metrics (): string {
    const e = new Exposition()
    const c = this.counters
    const labels = { mon: this.id }
    e.counter('ceph_mon_pings_answered_total', 'MPing requests answered with a pong', c.pingsAnswered, labels)
    e.counter('ceph_mon_auth_requests_total', 'MAuth requests received', c.authRequests, labels)
    e.counter('ceph_mon_auth_failures_total', 'MAuth requests answered with an error', c.authFailures, labels)
    e.counter('ceph_mon_get_map_requests_total', 'MMonGetMap requests received', c.getMapRequests, labels)
    e.counter('ceph_mon_monmaps_sent_total', 'MMonMap messages sent', c.monmapsSent, labels)
    e.counter('ceph_mon_messages_dropped_total', 'Messages of types the mon does not handle', c.dropped, labels)
    e.counter('ceph_mon_clients_accepted_total', 'Client connections accepted', c.clientsAccepted, labels)
    e.gauge('ceph_mon_connected_clients', 'Client connections open now', this.connectedClients(), labels)
    e.gauge('ceph_mon_quorum_age_seconds', 'Seconds since this mon became leader', this.startedAt === 0 ? 0 : (performance.now() - this.startedAt) / 1000, labels)
    e.histogram('ceph_mon_dispatch_latency_seconds', 'From receipt of a request to its reply being queued', this.dispatchLatency, labels)
    writePerfDump(e, this.messenger.perfDump(), labels)
    return e.toString()
  }
}

const snake = (k: string): string => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()

/** Perf keys that are levels, not running totals. */
const GAUGE_KEY = /(^|_)(length|waiting|current|max|active_connections|latency_avg_ms|latency_max_ms)$/

/** Every numeric perfDump entry as ceph_msgr_*: counters as _total, levels as gauges. */
function writePerfDump (e: Exposition, dump: Record<string, unknown>, labels: Record<string, string>, prefix?: string): void {
  for (const [k, v] of Object.entries(dump)) {
    // Top-level keys are msgr_*, except nested sections such as dispatch_queue.
    const name = metricName((prefix ?? (k.startsWith('msgr_') ? 'ceph_' : 'ceph_msgr_')) + snake(k))
    if (typeof v === 'number') {
      if (GAUGE_KEY.test(name)) e.gauge(name, `messenger perf counter ${k}`, v, labels)
      else e.counter(name + '_total', `messenger perf counter ${k}`, v, labels)
    } else if (k === 'msgr_recv_messages_by_type' && v !== null && typeof v === 'object') {
      for (const [type, n] of Object.entries(v as Record<string, number>)) {
        e.counter('ceph_msgr_recv_messages_by_type_total', 'Messages received, by type', n, { ...labels, type, type_name: msgTypeName(Number(type)) })
      }
    } else if (v !== null && typeof v === 'object') {
      writePerfDump(e, v as Record<string, unknown>, labels, `${name}_`)
    }
  }
}
