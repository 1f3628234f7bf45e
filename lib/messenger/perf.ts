// The messenger's perf dump (Ceph's AsyncMessenger perf counters): its own counters, the sums of
// its connections' counters and the dispatch queue's. Sums include connections that have closed,
// so every *_total only ever grows (a Prometheus counter must not go backwards).
import type { ConnectionCounters } from './connection/counters.ts'
import { newCounters } from './connection/counters.ts'

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
