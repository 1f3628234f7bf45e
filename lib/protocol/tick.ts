// The periodic check of an open connection (Ceph's AsyncConnection::tick plus the keepalive
// timer): is the peer silent for too long, is a lossy session idle, is a keepalive due.
export interface TickConfig {
  keepaliveIntervalMs: number
  keepaliveTimeoutMs: number
  idleTimeoutMs: number
}

export type TickDecision =
  /** Nothing from the peer for longer than keepaliveTimeoutMs: fault the socket. */
  | { action: 'keepalive-timeout', silentMs: number }
  /** A lossy session with no traffic either way for idleTimeoutMs: reset it. */
  | { action: 'idle', idleMs: number }
  /** Send a keepalive, tick again later. */
  | { action: 'keepalive' }
  | { action: 'none' }

/** How often to tick (ms), or undefined when no rule needs a timer. */
export function tickPeriod (cfg: TickConfig, lossy: boolean): number | undefined {
  const p = Math.min(...[cfg.keepaliveIntervalMs, cfg.keepaliveTimeoutMs, lossy ? cfg.idleTimeoutMs : 0].filter((x) => x > 0))
  return Number.isFinite(p) ? p : undefined
}

export function decideTick (cfg: TickConfig, lossy: boolean, now: number, lastRx: number, lastTx: number): TickDecision {
  if (cfg.keepaliveTimeoutMs > 0 && now - lastRx > cfg.keepaliveTimeoutMs) {
    return { action: 'keepalive-timeout', silentMs: now - lastRx }
  }
  const quiet = now - Math.max(lastRx, lastTx)
  if (lossy && cfg.idleTimeoutMs > 0 && quiet > cfg.idleTimeoutMs) return { action: 'idle', idleMs: quiet }
  if (cfg.keepaliveIntervalMs > 0) return { action: 'keepalive' }
  return { action: 'none' }
}
