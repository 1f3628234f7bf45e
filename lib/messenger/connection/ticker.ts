// The periodic tick of an open connection: runs decideTick (keepalive timeout, lossy idle
// timeout, keepalive due) on the connection's timers and carries out its decision.
import { decideTick, tickPeriod } from '../../protocol/tick.ts'
import type { TickDecision } from '../../protocol/tick.ts'
import type { Timers } from '../timers.ts'
import type { MessengerConfig } from '../config.ts'

export interface TickHost {
  readonly config: MessengerConfig
  /** Open, with the times of the last bytes in and out; undefined when not open. */
  activity: () => { lastRx: number, lastTx: number, lossy: boolean } | undefined
  act: (d: TickDecision) => void
}

export class Ticker {
  private timer: unknown
  private readonly timers: Timers

  constructor (timers: Timers) {
    this.timers = timers
  }

  start (host: TickHost, lossy: boolean): void {
    const period = tickPeriod(host.config, lossy)
    if (period === undefined) return
    this.stop()
    const tick = (): void => {
      this.timer = undefined
      const a = host.activity()
      if (a === undefined) return
      const d = decideTick(host.config, a.lossy, this.timers.now(), a.lastRx, a.lastTx)
      host.act(d)
      if (d.action === 'keepalive' || d.action === 'none') this.timer = this.timers.setTimeout(tick, period)
    }
    this.timer = this.timers.setTimeout(tick, period)
  }

  stop (): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer)
      this.timer = undefined
    }
  }
}
