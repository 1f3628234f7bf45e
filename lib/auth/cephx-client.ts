// The client side of cephx against a mon over msgr2 (ceph src/auth/cephx/CephxClientHandler.cc,
// MonClient), sans IO and synchronous:
//
//   start()                     → AUTH_REQUEST auth_payload (method 2)
//   handleReplyMore(payload)    → AUTH_REQUEST_MORE payload (proof)
//   handleDone(id, mode, bytes) → session key, connection secret, tickets
//
// Renewal (CephXTicketHandler::verify_service_ticket_reply): a ticket expires at receipt time +
// validity and is renewed from `expires − validity/4` on, i.e. after 75% of its life; MonClient
// checks on every tick (mon_client_ping_interval, 10 s) and then sends an MAuth message on the open
// session, so renewal travels in MAuth even over msgr2.
import type { Utime } from '../messages/denc.ts'
import { encodeTicketRequest, openTicketReply } from './cephx-authorizer.ts'
import { readDecrypted } from './cephx-crypto.ts'
import {
  AuthMode, ConMode, CephxRequestType, EMPTY_TICKET, Service, decodeAuthDone, decodeServerChallenge,
  decodeServiceTicketReply, encodeAuthenticate, encodeMonAuthRequest
} from './cephx-messages.ts'
import type { AuthEntityName, CephXTicketBlob } from './cephx-messages.ts'
import { clientProof } from './cephx-proof.ts'
import { openServiceTickets } from './cephx-tickets.ts'
import type { CryptoKey } from './crypto-key.ts'
import { randomU64, systemClock, systemRandom, utimeToMs } from './environment.ts'
import type { Clock, RandomSource } from './environment.ts'
import { AuthError, AuthErrorCode } from './errors.ts'
import { decodePlain } from './payload.ts'

/** Key + two 12-byte nonces: the least a secure-mode connection can start from. */
const MIN_SECURE_SECRET = 40

export interface ServiceTicket {
  serviceId: number
  sessionKey: CryptoKey
  /** As sent: a duration. */
  validity: Utime
  /** Opaque to us; presented to the service (or to the mon when reclaiming a global id). */
  ticket: CephXTicketBlob
  /** Milliseconds since the epoch (receipt time + validity); Infinity for a zero validity. */
  expiresAt: number
  /** From here on the ticket should be renewed (expiresAt − validity/4). */
  renewAfter: number
}

export interface CephxAuthResult {
  globalId: bigint
  conMode: number
  /** The auth ticket's session key: keys AUTH_SIGNATURE. */
  sessionKey: CryptoKey
  /** 64 bytes in secure mode, empty in crc mode. */
  connectionSecret: Uint8Array
  tickets: Map<number, ServiceTicket>
  /** The earliest renewAfter over all tickets. */
  renewAfter: number
}

export interface CephxClientOptions {
  entity: AuthEntityName
  key: CryptoKey
  /** Services wanted (other_keys); default AUTH only, as `ceph ping`. librados wants MON|OSD|MGR|AUTH. */
  want?: number
  /** A previous result on this cluster: its global id is reclaimed, presenting its auth ticket. */
  previous?: CephxAuthResult
  random?: RandomSource
  clock?: Clock
}

type State = 'new' | 'started' | 'challenged' | 'done'

export class CephxClient {
  readonly #entity: AuthEntityName
  readonly #key: CryptoKey
  readonly #want: number
  readonly #previous: CephxAuthResult | undefined
  readonly #random: RandomSource
  readonly #clock: Clock
  #state: State = 'new'

  constructor (opts: CephxClientOptions) {
    this.#entity = opts.entity
    this.#key = opts.key
    this.#want = (opts.want ?? Service.AUTH) | Service.AUTH
    this.#previous = opts.previous
    this.#random = opts.random ?? systemRandom
    this.#clock = opts.clock ?? systemClock
  }

  /** The AUTH_REQUEST auth_payload: AUTH_MODE_MON, our name, the global id to reclaim (or 0). */
  start (): Uint8Array {
    if (this.#state !== 'new') throw new AuthError(AuthErrorCode.BAD_STATE, 'already started')
    this.#state = 'started'
    return encodeMonAuthRequest({ authMode: AuthMode.MON, entity: this.#entity, globalId: this.#previous?.globalId ?? 0n })
  }

  /** AUTH_REPLY_MORE (the server challenge) → AUTH_REQUEST_MORE (CephXAuthenticate with the proof). */
  handleReplyMore (payload: Uint8Array): Uint8Array {
    if (this.#state !== 'started') throw new AuthError(AuthErrorCode.BAD_STATE, 'no auth request outstanding')
    const serverChallenge = decodeServerChallenge(payload)
    const clientChallenge = randomU64(this.#random)
    this.#state = 'challenged'
    return encodeAuthenticate({
      structV: 3,
      clientChallenge,
      key: clientProof(this.#key, serverChallenge, clientChallenge),
      oldTicket: this.#previous?.tickets.get(Service.AUTH)?.ticket ?? EMPTY_TICKET,
      otherKeys: this.#want
    })
  }

  /** AUTH_DONE: open the auth ticket with our key, then the connection secret and extra tickets. */
  handleDone (globalId: bigint, conMode: number, payload: Uint8Array): CephxAuthResult {
    if (this.#state !== 'challenged') throw new AuthError(AuthErrorCode.BAD_STATE, 'no authenticate outstanding')
    this.#state = 'done'
    const raw = decodeAuthDone(payload)
    if (raw.header.requestType !== CephxRequestType.GET_AUTH_SESSION_KEY) {
      throw new AuthError(AuthErrorCode.BAD_PAYLOAD, `reply to request type 0x${raw.header.requestType.toString(16)}`)
    }
    if (raw.header.status !== 0) throw new AuthError(AuthErrorCode.REJECTED, `status ${raw.header.status}`)
    const now = this.#clock.now()
    const tickets = new Map<number, ServiceTicket>()
    const previousKey = (svc: number): CryptoKey | undefined => this.#previous?.tickets.get(svc)?.sessionKey
    for (const t of openServiceTickets(this.#key, raw.tickets, previousKey)) tickets.set(t.serviceId, withTimes(t, now))
    const auth = tickets.get(Service.AUTH)
    if (auth === undefined) throw new AuthError(AuthErrorCode.BAD_PAYLOAD, 'reply holds no auth ticket')
    const sessionKey = auth.sessionKey
    let connectionSecret = new Uint8Array(0)
    if (raw.connectionSecret !== undefined && raw.connectionSecret.length > 0) {
      const cbl = raw.connectionSecret
      connectionSecret = Uint8Array.from(decodePlain(cbl, 'connection secret', (dec) => readDecrypted(dec, sessionKey, (d) => d.bufferlist())))
    }
    if (raw.extra !== undefined && raw.extra.length > 0) {
      const entries = decodePlain(raw.extra, 'extra tickets', decodeServiceTicketReply)
      for (const t of openServiceTickets(sessionKey, entries)) tickets.set(t.serviceId, withTimes(t, now))
    }
    if (conMode === ConMode.SECURE && connectionSecret.length < MIN_SECURE_SECRET) {
      throw new AuthError(AuthErrorCode.BAD_PAYLOAD, `secure mode with a ${connectionSecret.length}-byte connection secret`)
    }
    let renewAfter = Infinity
    for (const t of tickets.values()) renewAfter = Math.min(renewAfter, t.renewAfter)
    return { globalId, conMode, sessionKey, connectionSecret, tickets, renewAfter }
  }
}

function withTimes (t: Omit<ServiceTicket, 'expiresAt' | 'renewAfter'>, now: number): ServiceTicket {
  const ms = utimeToMs(t.validity)
  if (ms === 0) return { ...t, expiresAt: Infinity, renewAfter: Infinity }
  const expiresAt = now + ms
  // Ceph subtracts validity.sec()/4 (whole seconds only).
  return { ...t, expiresAt, renewAfter: expiresAt - (t.validity.sec / 4) * 1000 }
}

/** CephXTicketHandler::need_key: true once renewAfter has passed. */
export function needsRenewal (result: CephxAuthResult, now: number): boolean {
  return now >= result.renewAfter
}

/**
 * A CEPHX_GET_PRINCIPAL_SESSION_KEY payload asking for fresh tickets for `keys` (MonClient sends it
 * in MAuth with protocol 2 once the session is open).
 */
export function buildTicketRenewal (result: CephxAuthResult, keys: number, random: RandomSource = systemRandom): Uint8Array {
  const auth = result.tickets.get(Service.AUTH)
  if (auth === undefined) throw new AuthError(AuthErrorCode.BAD_STATE, 'no auth ticket')
  return encodeTicketRequest({ globalId: result.globalId, sessionKey: auth.sessionKey, ticket: auth.ticket }, keys, randomU64(random))
}

/** Merge the tickets of a ticket-request reply into a result (a new object; the input is unchanged). */
export function applyTicketRenewal (result: CephxAuthResult, payload: Uint8Array, clock: Clock = systemClock): CephxAuthResult {
  const now = clock.now()
  const tickets = new Map(result.tickets)
  for (const t of openTicketReply(payload, result.sessionKey)) tickets.set(t.serviceId, withTimes(t, now))
  let renewAfter = Infinity
  for (const t of tickets.values()) renewAfter = Math.min(renewAfter, t.renewAfter)
  return { ...result, tickets, renewAfter }
}
