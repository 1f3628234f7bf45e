// What a Messenger is created with (Messenger.create's options) and what a transport's listener
// gives back.
import type { AuthClient, AuthServer } from '../auth/auth-provider.ts'
import type { Policy } from '../session/policy.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import type { EntityName } from '../wire/entity-name.ts'
import { parseEntityName } from '../wire/entity-name.ts'
import type { DecoderLimits } from '../wire/limits.ts'
import type { MessengerConfigInit } from './config.ts'
import type { Logger } from './logger.ts'

export interface MessengerOptions {
  /** 'tcp' (default) or 'memory'. */
  type?: 'tcp' | 'memory'
  /** Our entity name: { type, num } or text like 'mon.0', 'client.?'. */
  name: EntityName | string
  /** Address nonce; random by default (Ceph clients), mons use 0. */
  nonce?: number
  /** Policy for peer types without their own (Ceph's default policy is lossless). */
  policy?: Policy
  features?: { supported?: bigint, required?: bigint }
  crc?: { header?: boolean, data?: boolean }
  limits?: Partial<DecoderLimits>
  config?: MessengerConfigInit
  logger?: Logger
  /** Our id as Ceph names it ('a' in mon.a); used in the auth-none authorizer. Default: the num, or '' for clients. */
  entityId?: string
  /** protocol_version between peers of our own type (Ceph's cluster protocol, e.g. 13 for mons). */
  clusterProtocol?: number
  /** msgr2's auth step (default: auth none both ways, crc mode). */
  auth?: MessengerAuth
}

/** What msgr2 connections authenticate with. */
export interface MessengerAuth {
  /** Client side: the methods to offer, best first; a fresh set per connection. */
  client?: () => AuthClient | readonly AuthClient[]
  /** Server side: the methods and modes accepted. */
  server?: AuthServer
}

export interface Listener {
  addr: EntityAddr
  close: () => Promise<void>
}

export function toName (n: EntityName | string): EntityName {
  if (typeof n !== 'string') return n
  const p = parseEntityName(n)
  if (p === undefined) throw new TypeError(`bad entity name ${n}`)
  return { type: p.type, num: p.num }
}
