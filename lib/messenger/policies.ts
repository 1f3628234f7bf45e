// The messenger's policy table (Ceph's Messenger::set_policy / get_policy): a Policy per peer
// entity type, a default for the rest, and the per-type receive throttles a policy asks for,
// created once and shared by every connection with a peer of that type.
import type { Policy } from '../session/policy.ts'
import { entityTypeName } from '../wire/constants.ts'
import type { PolicyThrottles } from './connection/receive-throttle.ts'
import { Throttle } from './throttle.ts'

export class PolicyTable {
  private fallback: Policy
  private readonly byType = new Map<number, Policy>()
  private readonly throttles = new Map<number, PolicyThrottles>()

  constructor (fallback: Policy) {
    this.fallback = fallback
  }

  set (peerType: number, policy: Policy): void {
    this.byType.set(peerType, policy)
    this.throttles.delete(peerType)
  }

  setDefault (policy: Policy): void {
    this.fallback = policy
  }

  get (peerType: number): Policy {
    return this.byType.get(peerType) ?? this.fallback
  }

  throttlesFor (peerType: number): PolicyThrottles {
    let t = this.throttles.get(peerType)
    if (t === undefined) {
      const p = this.get(peerType)
      const name = entityTypeName(peerType)
      t = {
        ...(p.throttlerMessages > 0 ? { messages: new Throttle(`msgr_policy_${name}_messages`, p.throttlerMessages) } : {}),
        ...(p.throttlerBytes > 0 ? { bytes: new Throttle(`msgr_policy_${name}_bytes`, p.throttlerBytes) } : {})
      }
      this.throttles.set(peerType, t)
    }
    return t
  }
}
