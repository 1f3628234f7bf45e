// A connection's counters: monotonic over its life (every socket it had), so perfDump() and
// Prometheus are a copy of them.
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

export function newCounters (): ConnectionCounters {
  return {
    msgsIn: 0, bytesIn: 0, msgsOut: 0, bytesOut: 0, wireBytesIn: 0, wireBytesOut: 0, writes: 0, reads: 0,
    acksIn: 0, acksOut: 0, sentUnackedPeak: 0, keepalivesIn: 0, keepalivesOut: 0, keepaliveAcksIn: 0,
    duplicates: 0, faults: 0, reconnects: 0, throttleWaits: 0, droppedOnClose: 0, injectedFailures: 0
  }
}
