// Structured logging with Ceph-like levels (debug_ms 0 = quiet … 20 = every handshake step).
// One JSON line per entry on stderr by default; library users can inject their own Logger.

export interface Logger {
  error: (subsys: string, msg: string, fields?: Record<string, unknown>) => void
  warn: (subsys: string, msg: string, fields?: Record<string, unknown>) => void
  info: (subsys: string, msg: string, fields?: Record<string, unknown>) => void
  debug: (subsys: string, msg: string, fields?: Record<string, unknown>) => void
  trace: (subsys: string, msg: string, fields?: Record<string, unknown>) => void
}

/** Ceph-style levels: error 0 (or -1), warn 1, info 5, debug 10, trace 20. */
const LEVELS = { error: 0, warn: 1, info: 5, debug: 10, trace: 20 } as const

export function createLogger (level = 0, write: (line: string) => void = (l) => { process.stderr.write(l + '\n') }): Logger {
  const make = (name: keyof typeof LEVELS) => (subsys: string, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[name] > level) return
    write(JSON.stringify({ t: new Date().toISOString(), level: name, subsys, msg, ...fields }, (_k, v: unknown) => typeof v === 'bigint' ? '0x' + v.toString(16) : v))
  }
  return { error: make('error'), warn: make('warn'), info: make('info'), debug: make('debug'), trace: make('trace') }
}

export const silentLogger: Logger = createLogger(-1)

/**
 * Logs each cause at most once per interval (a hostile peer must not flood the log); the
 * number of suppressed repeats is reported with the next entry for that cause.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number, suppressed: number }>()
  private readonly intervalMs: number
  private readonly now: () => number

  constructor (intervalMs = 10_000, now: () => number = Date.now) {
    this.intervalMs = intervalMs
    this.now = now
  }

  /** Returns the suppressed count to report, or undefined when this entry must be dropped. */
  admit (cause: string): number | undefined {
    const t = this.now()
    const e = this.last.get(cause)
    if (e !== undefined && t - e.at < this.intervalMs) {
      e.suppressed++
      return undefined
    }
    const suppressed = e?.suppressed ?? 0
    this.last.set(cause, { at: t, suppressed: 0 })
    if (this.last.size > 1024) this.last.delete(this.last.keys().next().value as string)
    return suppressed
  }
}
