// The receive side's throttles for one connection, with one owner of take, wait and release:
// the policy's message and byte throttles for the peer's type, then the messenger's dispatch
// throttle. A message holds what was taken for it until it is dispatched (or put back).
import type { Throttle } from '../throttle.ts'

/** A policy's receive throttles for one peer type (absent = unlimited). */
export interface PolicyThrottles {
  messages?: Throttle
  bytes?: Throttle
}

export interface ThrottleHost {
  throttlesFor: (peerType: number) => PolicyThrottles
  readonly dispatchThrottle: Throttle
}

export class ReceiveThrottle {
  private readonly host: ThrottleHost
  private throttles: PolicyThrottles | undefined
  private throttlesType = -1

  constructor (host: ThrottleHost) {
    this.host = host
  }

  /** The policy throttles for this peer type (looked up again only if the type changes). */
  private policy (peerType: number): PolicyThrottles {
    if (this.throttles === undefined || this.throttlesType !== peerType) {
      this.throttles = this.host.throttlesFor(peerType)
      this.throttlesType = peerType
    }
    return this.throttles
  }

  /**
   * Take a message of `bytes` payload bytes without waiting. Returns -1 when all was taken, else
   * the stage to wait from (0 messages, 1 policy bytes, 2 dispatch bytes) with earlier stages held.
   */
  tryTake (peerType: number, bytes: number): number {
    const t = this.policy(peerType)
    if (t.messages !== undefined && !t.messages.tryGet(1)) return 0
    if (bytes === 0) return -1
    if (t.bytes !== undefined && !t.bytes.tryGet(bytes)) return 1
    if (!this.host.dispatchThrottle.tryGet(bytes)) return 2
    return -1
  }

  /** Wait for what tryTake could not take, from `stage` on. */
  async take (peerType: number, bytes: number, stage: number): Promise<void> {
    const t = this.policy(peerType)
    if (stage <= 0 && t.messages !== undefined) await t.messages.get(1)
    if (stage <= 1 && bytes > 0 && t.bytes !== undefined) await t.bytes.get(bytes)
    if (bytes > 0) await this.host.dispatchThrottle.get(bytes)
  }

  /** Give back everything taken for a message of `bytes` payload bytes. */
  release (peerType: number, bytes: number): void {
    this.releasePolicy(peerType, bytes)
    if (bytes > 0) this.host.dispatchThrottle.put(bytes)
  }

  /** Give back only the policy throttles (the dispatch queue returns the dispatch bytes itself). */
  releasePolicy (peerType: number, bytes: number): void {
    const t = this.policy(peerType)
    t.messages?.put(1)
    if (bytes > 0) t.bytes?.put(bytes)
  }
}
