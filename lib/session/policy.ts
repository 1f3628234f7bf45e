// Connection policies (Ceph's src/msg/Policy.h): four flags decide what a fault does.
//   lossy      — a fault discards the connection and its messages (reported as a reset)
//   server     — never reconnect from this end; wait for the peer
//   standby    — with nothing to send, go idle instead of reconnecting
//   resetcheck — detect a peer that lost our session (RESETSESSION / connect_seq 0 paths)
import { DEFAULT_FEATURES_REQUIRED, DEFAULT_FEATURES_SUPPORTED } from '../wire/features.ts'

export interface PolicyInit {
  lossy?: boolean
  server?: boolean
  standby?: boolean
  resetcheck?: boolean
  featuresSupported?: bigint
  featuresRequired?: bigint
  /** Per-policy byte throttle taken by the reader for each message (0 = none). */
  throttlerBytes?: number
  /** Per-policy message-count throttle (0 = none). */
  throttlerMessages?: number
}

export class Policy {
  readonly lossy: boolean
  readonly server: boolean
  readonly standby: boolean
  readonly resetcheck: boolean
  readonly featuresSupported: bigint
  readonly featuresRequired: bigint
  readonly throttlerBytes: number
  readonly throttlerMessages: number

  constructor (init: PolicyInit = {}) {
    this.lossy = init.lossy ?? false
    this.server = init.server ?? false
    this.standby = init.standby ?? false
    this.resetcheck = init.resetcheck ?? true
    this.featuresSupported = init.featuresSupported ?? DEFAULT_FEATURES_SUPPORTED
    this.featuresRequired = init.featuresRequired ?? DEFAULT_FEATURES_REQUIRED
    this.throttlerBytes = init.throttlerBytes ?? 0
    this.throttlerMessages = init.throttlerMessages ?? 0
  }

  /** Ceph's Policy.lossless_peer in TypeScript casing. */
  get losslessPeer (): boolean {
    return !this.lossy && !this.server
  }

  with (changes: PolicyInit): Policy {
    return new Policy({ ...this.toInit(), ...changes })
  }

  toInit (): PolicyInit {
    return {
      lossy: this.lossy,
      server: this.server,
      standby: this.standby,
      resetcheck: this.resetcheck,
      featuresSupported: this.featuresSupported,
      featuresRequired: this.featuresRequired,
      throttlerBytes: this.throttlerBytes,
      throttlerMessages: this.throttlerMessages
    }
  }

  static lossyClient (extra: PolicyInit = {}): Policy {
    return new Policy({ lossy: true, server: false, standby: false, resetcheck: false, ...extra })
  }

  static losslessClient (extra: PolicyInit = {}): Policy {
    return new Policy({ lossy: false, server: false, standby: false, resetcheck: true, ...extra })
  }

  static statelessServer (extra: PolicyInit = {}): Policy {
    return new Policy({ lossy: true, server: true, standby: false, resetcheck: false, ...extra })
  }

  static statefulServer (extra: PolicyInit = {}): Policy {
    return new Policy({ lossy: false, server: true, standby: true, resetcheck: true, ...extra })
  }

  static losslessPeer (extra: PolicyInit = {}): Policy {
    return new Policy({ lossy: false, server: false, standby: true, resetcheck: false, ...extra })
  }

  static losslessPeerReuse (extra: PolicyInit = {}): Policy {
    return new Policy({ lossy: false, server: false, standby: true, resetcheck: true, ...extra })
  }

  toString (): string {
    return `lossy=${+this.lossy} server=${+this.server} standby=${+this.standby} resetcheck=${+this.resetcheck}`
  }
}
