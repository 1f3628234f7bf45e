// The clock and timers a connection uses, behind a tiny interface so tests can use fakes.

export interface Timers {
  now: () => number
  /**
   * Timers do not keep the process alive (sockets do), except with `keepAlive`: a lossless
   * connection backing off between attempts with messages still to deliver has no socket, and
   * the process must not exit under it.
   */
  setTimeout: (fn: () => void, ms: number, keepAlive?: boolean) => unknown
  clearTimeout: (handle: unknown) => void
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms, keepAlive = false) => {
    const t = setTimeout(fn, ms)
    if (!keepAlive) t.unref?.()
    return t
  },
  clearTimeout: (h) => { clearTimeout(h as ReturnType<typeof setTimeout>) }
}
