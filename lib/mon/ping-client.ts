// Ping a mon the way `ceph ping mon.X` does (MonClient::ping_monitor): a lossy client connection,
// the MAuth "none" negotiation, then MPing; the pong is an MPing whose front is a string of JSON.
// Unlike `ceph ping` it keeps the connection for further pings and redials after a reset.
//
//   const pc = new MonPingClient('v1:127.0.0.1:6789')
//   const pong = await pc.ping()        // { text, json(), rttMs, ... }; throws PingError
//   await pc.close()
import { performance } from 'node:perf_hooks'
import { MAuthReply } from '../messages/auth-reply.ts'
import { negotiationMAuth } from '../messages/auth.ts'
import type { Message } from '../messages/message.ts'
import { MMonMap } from '../messages/mon-map.ts'
import type { MonMap } from '../messages/mon-map.ts'
import { MPing } from '../messages/ping.ts'
import type { Connection } from '../messenger/connection.ts'
import type { Dispatcher } from '../messenger/dispatch/dispatcher.ts'
import { MessengerError, MessengerErrorCode } from '../protocol/errors.ts'
import { silentLogger } from '../messenger/logger.ts'
import type { Logger } from '../messenger/logger.ts'
import { Messenger } from '../messenger/messenger.ts'
import '../messenger/tcp-messenger.ts'
import '../messenger/memory-messenger.ts'
import { Policy } from '../session/policy.ts'
import { EntityType, MsgType } from '../wire/constants.ts'
import { formatEntityAddr, parseEntityAddr } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import type { EntityName } from '../wire/entity-name.ts'
import { ProtocolError } from '../wire/errors.ts'
import { DEFAULT_FEATURES_REQUIRED, DEFAULT_FEATURES_SUPPORTED } from '../wire/features.ts'

export type PingFailureKind =
  /** The TCP connection could not be made (ECONNREFUSED, EHOSTUNREACH, ...). */
  | 'connect'
  /** The peer refused the session: FEATURES, BADPROTOVER, BADAUTHORIZER. */
  | 'refused'
  /** No pong within the timeout. */
  | 'timeout'
  /** The peer sent something we cannot parse. */
  | 'protocol'
  /** The connection broke (peer closed, reset) before the pong came. */
  | 'reset'
  /** We were closed. */
  | 'closed'

export class PingError extends Error {
  override readonly name = 'PingError'
  readonly kind: PingFailureKind
  constructor (kind: PingFailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.kind = kind
  }
}

export interface MonPingClientOptions {
  /** 'tcp' (default) or 'memory'. */
  type?: 'tcp' | 'memory'
  /** Features we advertise in the connect message. Default: what Pacific advertises. */
  features?: bigint
  /** Per ping: connect + pong must arrive within this. Default 10 s. */
  timeoutMs?: number
  /** Send the MAuth negotiation on each new connection before the first ping, like ceph ping. Default true. */
  auth?: boolean
  logger?: Logger
}

export interface Pong {
  /** The pong's text, exactly as the mon sent it ('' for an empty pong). */
  text: string
  /** From sending the ping (or the session opening, if later) to the pong. */
  rttMs: number
  /** Set when this ping had to open the connection: dial + handshake time. */
  connectMs: number | undefined
  /** The mon's wire name (mon.<rank>). */
  from: EntityName
  connection: Connection
}

/** Turn what ended a connection into a PingError with a one-line cause. */
export function pingErrorFrom (err: unknown, opened: boolean): PingError {
  if (err instanceof MessengerError) {
    const text = err.message.startsWith(`${err.code}: `) ? err.message.slice(err.code.length + 2) : err.message
    switch (err.code) {
      case MessengerErrorCode.REFUSED:
        return new PingError('refused', `refused by the mon: ${text}`, { cause: err })
      case MessengerErrorCode.HANDSHAKE_TIMEOUT:
        return new PingError('timeout', `handshake timed out: ${text}`, { cause: err })
      case MessengerErrorCode.PEER_CLOSED:
        return new PingError('reset', opened ? 'connection closed by the mon' : 'connection closed by the mon during the handshake', { cause: err })
      case MessengerErrorCode.SOCKET_ERROR: {
        const code = (err.cause as { code?: unknown } | undefined)?.code
        if (!opened && typeof code === 'string') {
          const what = code === 'ECONNREFUSED' ? 'connection refused' : 'cannot connect'
          return new PingError('connect', `${what} (${code})`, { cause: err })
        }
        return new PingError('reset', `socket error: ${text}`, { cause: err })
      }
      case MessengerErrorCode.CLOSED:
        return new PingError('closed', 'connection closed', { cause: err })
      default:
        return new PingError('reset', `${err.code}: ${text}`, { cause: err })
    }
  }
  if (err instanceof ProtocolError) return new PingError('protocol', `protocol error: ${err.message}`, { cause: err })
  if (err instanceof Error) return new PingError('reset', err.message, { cause: err })
  return new PingError('reset', err === undefined ? 'connection closed' : String(err))
}

export class MonPingClient implements Dispatcher {
  readonly target: EntityAddr
  readonly messenger: Messenger
  readonly timeoutMs: number
  /** The last MAuthReply and monmap the mon sent us. */
  lastAuthReply: MAuthReply | undefined
  lastMonMap: MonMap | undefined
  /** Connections opened so far (1 + reconnects). */
  connections = 0
  private readonly auth: boolean
  private conn: Connection | undefined
  private connectStart = 0
  private connectedAt: number | undefined
  /** The ping in flight: settled by its pong, its connection closing, or its timer. */
  private waiter: { conn: Connection, resolve: (r: MPing | 'closed' | 'timeout') => void } | undefined
  private closing: Promise<void> | undefined

  constructor (addr: string | EntityAddr, opts: MonPingClientOptions = {}) {
    const a = typeof addr === 'string' ? parseEntityAddr(addr) : addr
    if (a === undefined) throw new TypeError(`bad address ${String(addr)} (expected v1:HOST:PORT)`)
    this.target = a
    this.timeoutMs = opts.timeoutMs ?? 10_000
    this.auth = opts.auth ?? true
    const features = opts.features ?? DEFAULT_FEATURES_SUPPORTED
    // Like the pinger ceph builds: a throw-away lossy client; a fault ends the connection.
    this.messenger = Messenger.create({
      type: opts.type ?? 'tcp',
      name: 'client.?',
      policy: Policy.lossyClient({ featuresSupported: features, featuresRequired: DEFAULT_FEATURES_REQUIRED & features }),
      logger: opts.logger ?? silentLogger,
      config: { handshakeTimeoutMs: this.timeoutMs }
    })
    this.messenger.addDispatcherTail(this)
    this.messenger.start()
  }

  /** The connection in use (undefined before the first ping or after a reset). */
  get connection (): Connection | undefined {
    return this.conn !== undefined && !this.conn.isClosed ? this.conn : undefined
  }

  // Pongs are taken in the reader (fast dispatch): a mon that answers and hangs up must not have
  // its reset, queued at a higher priority, overtake the pong.
  msCanFastDispatch (m: Message): boolean {
    return m.type === MsgType.PING || m.type === MsgType.AUTH_REPLY || m.type === MsgType.MON_MAP
  }

  msFastDispatch (m: Message): void {
    if (m instanceof MAuthReply) this.lastAuthReply = m
    else if (m instanceof MMonMap) this.lastMonMap = m.monmap
    else if (m instanceof MPing) {
      const w = this.waiter
      if (w !== undefined && m.connection === w.conn) {
        this.waiter = undefined
        w.resolve(m)
      }
    }
  }

  msHandleConnect (conn: Connection): void {
    if (conn === this.conn) this.connectedAt = performance.now()
  }

  /** One ping: (re)connect if needed, send MPing, wait for the pong. Rejects with PingError. */
  async ping (): Promise<Pong> {
    if (this.closing !== undefined) throw new PingError('closed', 'ping client closed')
    if (this.waiter !== undefined) throw new Error('ping() already in progress')
    let connectMs: number | undefined
    let conn = this.connection
    const fresh = conn === undefined
    if (conn === undefined) {
      this.connectStart = performance.now()
      this.connectedAt = undefined
      try {
        conn = this.messenger.connectTo(EntityType.MON, this.target)
      } catch (e) {
        throw pingErrorFrom(e, false)
      }
      this.conn = conn
      // One watcher per connection (not one per ping): it fails the ping in flight, if any.
      const watched = conn
      void conn.closed.then(() => { if (this.waiter?.conn === watched) this.waiter.resolve('closed') })
      this.connections++
      // MonClient's first message on a new mon session.
      if (this.auth) conn.send(negotiationMAuth())
    }
    const c = conn
    const sentAt = performance.now()
    let timer: ReturnType<typeof setTimeout> | undefined
    let r: MPing | 'closed' | 'timeout'
    try {
      r = await new Promise<MPing | 'closed' | 'timeout'>((resolve) => {
        this.waiter = { conn: c, resolve }
        timer = setTimeout(() => { resolve('timeout') }, this.timeoutMs)
        if (c.isClosed) resolve('closed')
        else c.send(new MPing())
      })
    } finally {
      clearTimeout(timer)
      this.waiter = undefined
    }
    const now = performance.now()
    if (r === 'timeout') {
      const opened = c.isOpen
      // A late pong must not be taken for the next ping's: start over on a new connection.
      c.markDown()
      if (opened) throw new PingError('timeout', `no pong within ${this.timeoutMs / 1000} s`)
      const cause = c.lastError === undefined ? '' : ` (last error: ${pingErrorFrom(c.lastError, false).message})`
      throw new PingError('timeout', `could not connect within ${this.timeoutMs / 1000} s${cause}`)
    }
    if (r === 'closed') throw pingErrorFrom(c.lastError ?? new MessengerError(MessengerErrorCode.CLOSED, 'closed'), this.connectedAt !== undefined)
    if (fresh) connectMs = (this.connectedAt ?? sentAt) - this.connectStart
    const from = this.connectedAt !== undefined && this.connectedAt > sentAt && this.connectedAt <= now ? this.connectedAt : sentAt
    return { text: r.payloadText ?? '', rttMs: now - from, connectMs, from: r.src, connection: c }
  }

  /** Drop the current connection (the next ping redials). */
  disconnect (): void {
    this.conn?.markDown()
    this.conn = undefined
  }

  async close (): Promise<void> {
    if (this.closing === undefined) this.closing = this.messenger.shutdown(500)
    await this.closing
  }

  toString (): string {
    return `MonPingClient(${formatEntityAddr(this.target)})`
  }
}

/** Parse a pong's text as JSON; undefined when it is not JSON. */
export function parsePong (text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text)
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}
