// The messenger's perf dump (Ceph's AsyncMessenger perf counters): its own counters, the sums of
// its connections' counters and the dispatch queue's. Sums include connections that have closed,
// so every *_total only ever grows (a Prometheus counter must not go backwards).
import type { ConnectionCounters } from './connection/counters.ts'
import { newCounters } from './connection/counters.ts'
import type { DispatchQueuePerf } from './dispatch/dispatch-queue.ts'
import type { RouterCounters } from './dispatch/router.ts'
import type { PayloadPoolStats } from '../wire/payload-pool.ts'
import { formatEntityAddr } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import { formatEntityName } from '../wire/entity-name.ts'
import type { EntityName } from '../wire/entity-name.ts'

export type SummedCounter = 'msgsOut' | 'bytesOut' | 'bytesIn' | 'msgsIn' | 'faults' | 'duplicates' | 'acksIn' | 'acksOut' |
'keepalivesIn' | 'keepalivesOut' | 'throttleWaits' | 'reconnects' | 'wireBytesIn' | 'wireBytesOut'

const SUMMED: readonly SummedCounter[] = ['msgsOut', 'bytesOut', 'bytesIn', 'msgsIn', 'faults', 'duplicates', 'acksIn', 'acksOut',
  'keepalivesIn', 'keepalivesOut', 'throttleWaits', 'reconnects', 'wireBytesIn', 'wireBytesOut']

/** Connection counters summed over live connections plus everything closed ones counted. */
export class ConnectionTotals {
  private readonly closed: ConnectionCounters = newCounters()

  /** A connection closed: keep what it counted. */
  retire (c: ConnectionCounters): void {
    for (const k of SUMMED) this.closed[k] += c[k]
  }

  sum (live: Iterable<{ counters: ConnectionCounters }>): ConnectionCounters {
    const out = { ...this.closed }
    for (const c of live) for (const k of SUMMED) out[k] += c.counters[k]
    return out
  }
}

/** What the messenger's perf dump reads. */
export interface MessengerPerfSource {
  name: EntityName
  addr: EntityAddr
  /** Connection counters summed (live + closed). */
  connections: ConnectionCounters
  live: number
  counters: { connectionsAccepted: number, connectionsConnected: number, acceptFailures: number, resets: number, remoteResets: number }
  router: { counters: RouterCounters, inByType: { toRecord: () => Record<string, number> } }
  dispatchQueue: { perfDump: () => DispatchQueuePerf }
  payloadPool: { stats: () => PayloadPoolStats } | undefined
}

/** Ceph's msgr perf counter names, with our additions (msgr_wire_*, msgr_injected_delays, ...). */
export function messengerPerf (p: MessengerPerfSource): Record<string, unknown> {
  const c = p.connections
  const r = p.router.counters
  return {
    name: formatEntityName(p.name),
    addr: formatEntityAddr(p.addr),
    msgr_recv_messages: r.msgsIn,
    msgr_recv_bytes: c.bytesIn,
    msgr_send_messages: c.msgsOut,
    msgr_send_bytes: c.bytesOut,
    msgr_wire_recv_bytes: c.wireBytesIn,
    msgr_wire_send_bytes: c.wireBytesOut,
    msgr_recv_messages_by_type: p.router.inByType.toRecord(),
    msgr_active_connections: p.live,
    msgr_created_connections: p.counters.connectionsAccepted + p.counters.connectionsConnected,
    msgr_accepted: p.counters.connectionsAccepted,
    msgr_accept_failures: p.counters.acceptFailures,
    msgr_dispatched: r.msgsDispatched,
    msgr_fast_dispatched: r.fastDispatched,
    msgr_unhandled: r.unhandled,
    msgr_dispatch_errors: r.dispatchErrors,
    msgr_resets: p.counters.resets,
    msgr_remote_resets: p.counters.remoteResets,
    msgr_discarded_on_close: r.discardedOnClose,
    msgr_injected_delays: r.injectedDelays,
    msgr_faults: c.faults,
    msgr_reconnects: c.reconnects,
    msgr_duplicates_dropped: c.duplicates,
    msgr_acks_in: c.acksIn,
    msgr_acks_out: c.acksOut,
    msgr_keepalives_in: c.keepalivesIn,
    msgr_keepalives_out: c.keepalivesOut,
    msgr_throttle_waits: c.throttleWaits,
    msgr_dispatch_latency_avg_ms: r.msgsDispatched === 0 ? 0 : r.dispatchLatencySumMs / r.msgsDispatched,
    msgr_dispatch_latency_max_ms: r.dispatchLatencyMaxMs,
    dispatch_queue: p.dispatchQueue.perfDump(),
    payload_pool: p.payloadPool?.stats() ?? null
  }
}
