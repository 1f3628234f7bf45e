// The mon's rotating service secrets (ceph RotatingSecrets in src/auth/Auth.h): per service a few
// numbered AES keys; new tickets are sealed with the current one and a ticket names its secret by
// secret_id, so tickets sealed before a rotation stay readable while their secret is kept.
//
// Simplification: Ceph keeps exactly prev/current/next and seals with the middle one; here the
// newest unexpired secret seals, a new one is made when it expires, and the last `keep` are kept.
import { inspect } from 'node:util'
import { CryptoKey } from './crypto-key.ts'
import { systemClock, systemRandom, utimeFromMs } from './environment.ts'
import type { Clock, RandomSource } from './environment.ts'

export interface ServiceSecret {
  secretId: bigint
  key: CryptoKey
  /** Milliseconds since the epoch after which no new ticket is sealed with it. */
  expiresAt: number
}

export interface ServiceSecretsOptions {
  random?: RandomSource
  clock?: Clock
  /** How long a secret seals new tickets; default 1 h (auth_service_ticket_ttl). */
  ttlMs?: number
  /** How many secrets per service stay readable; default 3 (KEY_ROTATE_NUM). */
  keep?: number
}

export class ServiceSecrets {
  readonly #bySvc = new Map<number, ServiceSecret[]>()
  readonly #random: RandomSource
  readonly #clock: Clock
  readonly #ttlMs: number
  readonly #keep: number

  constructor (opts: ServiceSecretsOptions = {}) {
    this.#random = opts.random ?? systemRandom
    this.#clock = opts.clock ?? systemClock
    this.#ttlMs = opts.ttlMs ?? 3600_000
    this.#keep = Math.max(1, opts.keep ?? 3)
  }

  /** Install a known secret (ids must increase per service). */
  add (serviceId: number, secret: ServiceSecret): void {
    const list = this.#bySvc.get(serviceId) ?? []
    list.push(secret)
    while (list.length > this.#keep) list.shift()
    this.#bySvc.set(serviceId, list)
  }

  /** Make, install and return a new secret for the service. */
  rotate (serviceId: number): ServiceSecret {
    const list = this.#bySvc.get(serviceId)
    const last = list?.[list.length - 1]
    const now = this.#clock.now()
    const secret: ServiceSecret = {
      secretId: (last?.secretId ?? 0n) + 1n,
      key: CryptoKey.generate(this.#random, utimeFromMs(now)),
      expiresAt: now + this.#ttlMs
    }
    this.add(serviceId, secret)
    return secret
  }

  /** The secret that seals new tickets; rotates when there is none or it has expired. */
  current (serviceId: number): ServiceSecret {
    const list = this.#bySvc.get(serviceId)
    const last = list?.[list.length - 1]
    if (last === undefined || this.#clock.now() >= last.expiresAt) return this.rotate(serviceId)
    return last
  }

  /** The secret a ticket names, if still kept. */
  get (serviceId: number, secretId: bigint): ServiceSecret | undefined {
    return this.#bySvc.get(serviceId)?.find((s) => s.secretId === secretId)
  }

  toString (): string {
    const parts = [...this.#bySvc].map(([svc, l]) => `${svc}:[${l.map((s) => s.secretId).join(',')}]`)
    return `ServiceSecrets(${parts.join(' ')})`
  }

  toJSON (): string {
    return this.toString()
  }

  [inspect.custom] (): string {
    return this.toString()
  }
}
