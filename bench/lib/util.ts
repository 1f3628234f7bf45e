// Small helpers shared by the bench workers.
import type { Endpoint, RoundCpu, RttResult } from './proto.ts'

/** What a worker's listen op leaves running until close. */
export interface ServerHandle {
  endpoint: Endpoint
  connections: () => number
  sampledPeakRss: () => number
  /** Peaks of arrayBuffers and heapUsed seen by the same sampler (flood mode), else 0. */
  sampledPeaks: () => { arrayBuffers: number, heapUsed: number }
  /** CPU the server spent on the last complete START..DONE round. */
  lastRound: () => RoundCpu | undefined
  close: () => Promise<void>
}

/** CPU and wall time of one round (START → DONE on a server, the measured round on a client). */
export class RoundMeter {
  private t0 = 0
  private c0: NodeJS.CpuUsage | undefined
  last: RoundCpu | undefined

  start (): void {
    this.t0 = performance.now()
    this.c0 = process.cpuUsage()
  }

  done (messages: number): RoundCpu {
    const c = process.cpuUsage(this.c0)
    this.last = { messages, wallMs: performance.now() - this.t0, userMs: c.user / 1000, systemMs: c.system / 1000 }
    return this.last
  }
}

/** Size the measured round from the warm-up round's rate: about `targetMs` long, within limits. */
export function clampRound (warmMessages: number, warmMs: number, targetMs: number, maxMessages: number): number {
  const rate = warmMessages / Math.max(warmMs, 0.001)
  const n = Math.round(rate * targetMs)
  return Math.max(warmMessages, Math.min(maxMessages, n))
}

/** p50, p99 and mean of round trip times (µs). */
export function percentile (timesUs: number[]): RttResult {
  const s = [...timesUs].sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)
  return { p50: at(0.5), p99: at(0.99), mean, count: s.length, times: s }
}

/** Run job(0..count-1) with at most `limit` running at once. */
export async function runLimited (count: number, limit: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      await job(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane))
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => { setTimeout(resolve, ms) })
}

/** `p`, or a rejection after `ms` (the timer is cleared either way). */
export function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const t = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what} timed out after ${ms} ms`)) }, ms)
  })
  return Promise.race([p, t]).finally(() => { clearTimeout(timer) })
}
