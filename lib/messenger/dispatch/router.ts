// Where a received message goes (Ceph's Messenger::ms_fast_preprocess / ms_can_fast_dispatch /
// ms_fast_dispatch / ms_deliver_dispatch): fast preprocess, an injected delay if configured, then
// the connection's inbox (someone iterates it), a fast dispatcher inline, or the DispatchQueue;
// and what the DispatchQueue delivers to the dispatcher chain, with its counters.
import type { Message } from '../../messages/message.ts'
import { errorCode } from '../../protocol/errors.ts'
import { entityTypeName } from '../../wire/constants.ts'
import { formatEntityName } from '../../wire/entity-name.ts'
import type { MessengerConfig } from '../config.ts'
import type { Connection, ConnectionEvent } from '../connection.ts'
import type { Logger, RateLimitedLog } from '../logger.ts'
import type { DispatchQueue, QueueItem } from './dispatch-queue.ts'
import type { Dispatcher } from './dispatcher.ts'
import { TypeCounts } from './type-counts.ts'

export interface RouterCounters {
  msgsIn: number
  msgsDispatched: number
  fastDispatched: number
  unhandled: number
  dispatchErrors: number
  /** Received messages not dispatched because their connection had closed. */
  discardedOnClose: number
  injectedDelays: number
  dispatchLatencySumMs: number
  dispatchLatencyMaxMs: number
}

export class DispatchRouter {
  readonly dispatchers: Dispatcher[] = []
  readonly counters: RouterCounters = {
    msgsIn: 0, msgsDispatched: 0, fastDispatched: 0, unhandled: 0, dispatchErrors: 0,
    discardedOnClose: 0, injectedDelays: 0, dispatchLatencySumMs: 0, dispatchLatencyMaxMs: 0
  }

  readonly inByType = new TypeCounts()
  private readonly config: MessengerConfig
  private readonly log: Logger
  private readonly rateLog: RateLimitedLog
  private readonly delayChains = new WeakMap<Connection, Promise<void>>()
  private queue!: DispatchQueue<Message, Connection>

  constructor (config: MessengerConfig, log: Logger, rateLog: RateLimitedLog) {
    this.config = config
    this.log = log
    this.rateLog = rateLog
  }

  /** The queue this router feeds (created by the messenger with deliver() as its consumer). */
  attach (queue: DispatchQueue<Message, Connection>): void {
    this.queue = queue
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

  /** A connection event, in the queue's order (events overtake queued messages). */
  onEvent (kind: ConnectionEvent, conn: Connection): void {
    this.queue.enqueue({ kind, connection: conn, connId: conn.id })
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
    const ok = this.queue.enqueue({ kind: 'message', message: m, priority: m.priority, connId: conn.id, cost: bytes, bytes })
    if (!ok) conn.releasePolicy(m)
  }

  /** The DispatchQueue's consumer. A promise (an async dispatcher) holds a dispatch slot until it settles. */
  deliver (item: QueueItem<Message, Connection>): void | Promise<void> {
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

  /** A dispatcher threw (or rejected) inside the queue. */
  failed (err: unknown): void {
    this.counters.dispatchErrors++
    this.log.error('ms', 'dispatcher threw', { err: String(err) })
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

  logOnce (what: string, err: unknown): void {
    const cause = `${what}:${errorCode(err)}`
    const suppressed = this.rateLog.admit(cause)
    if (suppressed === undefined) return
    this.log.info('ms', what, { code: errorCode(err), err: String((err as Error)?.message ?? err), suppressed })
  }
}
