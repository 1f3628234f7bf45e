// The mon side of cephx over msgr2 (ceph src/auth/cephx/CephxServiceHandler.cc), sans IO:
//
//   AUTH_REQUEST payload      → handleRequest     → AUTH_REPLY_MORE payload (server challenge)
//   AUTH_REQUEST_MORE payload → handleRequestMore → AUTH_DONE payload + session key + secret
//
// Ceph answers every failure with EPERM/EACCES on the wire; the typed codes here are for the
// caller's logs and must not be reflected to the peer in more detail than "denied".
import { Encoder } from '../messages/denc.ts'
import type { Utime } from '../messages/denc.ts'
import { entityTypeName } from '../wire/constants.ts'
import { decodeAuthorizerBody, decodeAuthorizerHead, encodeTicketReplyHeader } from './cephx-authorizer.ts'
import { encodeEncrypt } from './cephx-crypto.ts'
import {
  CephxRequestType, Service, decodeAuthenticateBody, decodeMonAuthRequest, decodeRequestType,
  encodeAuthDone, encodeServerChallenge
} from './cephx-messages.ts'
import type { AuthEntityName, CephXAuthenticate, CephXTicketBlob } from './cephx-messages.ts'
import { clientProof, proofsEqual } from './cephx-proof.ts'
import { buildServiceTicketReply, encodeServiceTicketsInto, openTicket, sealServiceTickets, sealTicket } from './cephx-tickets.ts'
import type { AuthTicket, CephXServiceTicketInfo, SessionAuthInfo } from './cephx-tickets.ts'
import { CryptoKey } from './crypto-key.ts'
import { randomU64, systemClock, systemRandom, utimeFromMs, utimeToMs } from './environment.ts'
import type { Clock, RandomSource } from './environment.ts'
import { AuthError, AuthErrorCode } from './errors.ts'
import type { Keyring, KeyringEntry } from './keyring.ts'
import { decodePlain } from './payload.ts'
import type { ServiceSecrets } from './service-secrets.ts'

export interface CephxServerOptions {
  keyring: Keyring
  secrets: ServiceSecrets
  random?: RandomSource
  clock?: Clock
  /** Auth ticket validity in seconds; default 259200 (auth_mon_ticket_ttl, 72 h, seen on the wire). */
  authTicketTtl?: number
  /** Service ticket validity in seconds; default 3600 (auth_service_ticket_ttl). */
  serviceTicketTtl?: number
  /** Hands out global ids for new clients; default counts up from 4096. */
  allocateGlobalId?: () => bigint
}

export interface CephxAuthOutcome {
  entity: AuthEntityName
  globalId: bigint
  /** Keys the AUTH_SIGNATURE HMAC. */
  sessionKey: CryptoKey
  /** Secure-mode key material (64 bytes), empty in crc mode. */
  connectionSecret: Uint8Array
  caps: ReadonlyMap<string, string>
  /** The AUTH_DONE payload. */
  payload: Uint8Array
}

/**
 * Tickets for these carry no caps: Pacific's KeyServer skips the caps of mon tickets ("mon keys are
 * stored externally"); [cap 5 conn 1]: the mon ticket blob is 109 bytes, osd/mgr ones with
 * "allow *" are 125.
 */
const CAPLESS_SERVICES: readonly number[] = [Service.AUTH, Service.MON]

/** Services whose tickets other_keys may ask for, besides AUTH itself. */
const TICKET_SERVICES = [Service.MON, Service.MDS, Service.OSD, Service.MGR]

function encodeCaps (text: string | undefined): Uint8Array {
  return text === undefined ? new Uint8Array(0) : new Encoder(4 + text.length).string(text).finish()
}

function addSeconds (t: Utime, seconds: number): Utime {
  return utimeFromMs(utimeToMs(t) + seconds * 1000)
}

export class CephxServer {
  readonly keyring: Keyring
  readonly secrets: ServiceSecrets
  readonly random: RandomSource
  readonly clock: Clock
  readonly authTicketTtl: number
  readonly serviceTicketTtl: number
  readonly allocateGlobalId: () => bigint

  constructor (opts: CephxServerOptions) {
    this.keyring = opts.keyring
    this.secrets = opts.secrets
    this.random = opts.random ?? systemRandom
    this.clock = opts.clock ?? systemClock
    this.authTicketTtl = opts.authTicketTtl ?? 259200
    this.serviceTicketTtl = opts.serviceTicketTtl ?? 3600
    let next = 4096n
    this.allocateGlobalId = opts.allocateGlobalId ?? (() => next++)
  }

  /** State for one connection's handshake. */
  session (): CephxServerSession {
    return new CephxServerSession(this)
  }

  /**
   * Open a ticket blob for `serviceId` and check it is still valid (what a service does with the
   * ticket inside an authorizer). Unknown secret → BAD_TICKET, forged → DECRYPT_FAILED, expired →
   * EXPIRED_TICKET, other global id → BAD_TICKET.
   */
  verifyTicket (serviceId: number, blob: CephXTicketBlob, globalId?: bigint): CephXServiceTicketInfo {
    const info = this.openTicket(serviceId, blob)
    if (utimeToMs(info.ticket.expires) <= this.clock.now()) throw new AuthError(AuthErrorCode.EXPIRED_TICKET, 'ticket has expired')
    if (globalId !== undefined && info.ticket.globalId !== globalId) throw new AuthError(AuthErrorCode.BAD_TICKET, 'ticket belongs to another global id')
    return info
  }

  /** cephx_decode_ticket: decrypt without a validity check. */
  openTicket (serviceId: number, blob: CephXTicketBlob): CephXServiceTicketInfo {
    if (blob.blob.length === 0) throw new AuthError(AuthErrorCode.BAD_TICKET, 'empty ticket')
    const secret = this.secrets.get(serviceId, blob.secretId)
    if (secret === undefined) throw new AuthError(AuthErrorCode.BAD_TICKET, `no service secret ${blob.secretId} for ${entityTypeName(serviceId)}`)
    return openTicket(blob, secret.key)
  }

  /** KeyServer::build_session_auth_info: a ticket for one service, derived from a parent ticket. */
  buildSessionAuthInfo (serviceId: number, parent: AuthTicket, caps: ReadonlyMap<string, string>, ttl: number): SessionAuthInfo {
    const now = utimeFromMs(this.clock.now())
    const sessionKey = CryptoKey.generate(this.random, now)
    const ticket: AuthTicket = {
      ...parent,
      created: now,
      expires: addSeconds(now, ttl),
      caps: { allowAll: false, caps: encodeCaps(CAPLESS_SERVICES.includes(serviceId) ? undefined : caps.get(entityTypeName(serviceId))) }
    }
    const secret = this.secrets.current(serviceId)
    return { serviceId, sessionKey, validity: { sec: ttl, nsec: 0 }, ticket: sealTicket({ ticket, sessionKey }, secret.key, secret.secretId) }
  }

  /** The `extra` tickets: one per requested service other than AUTH, sealed with the session key. */
  buildExtraTickets (otherKeys: number, parent: AuthTicket, caps: ReadonlyMap<string, string>, sessionKey: CryptoKey): Uint8Array {
    const infos = TICKET_SERVICES
      .filter((svc) => (otherKeys & svc) !== 0)
      .map((svc) => this.buildSessionAuthInfo(svc, parent, caps, this.serviceTicketTtl))
    return infos.length === 0 ? new Uint8Array(0) : buildServiceTicketReply(sessionKey, infos)
  }

  /**
   * CEPHX_GET_PRINCIPAL_SESSION_KEY (sent in MAuth once a session is up): check the authorizer made
   * with the auth ticket and return fresh tickets for the requested services. Unlike Ceph, which
   * only needs the ticket to decrypt, an expired auth ticket is refused (EXPIRED_TICKET).
   */
  handleTicketRequest (payload: Uint8Array): { globalId: bigint, entity: AuthEntityName, payload: Uint8Array } {
    const { info, keys } = decodePlain(payload, 'ticket request', (dec) => {
      const type = decodeRequestType(dec)
      if (type !== CephxRequestType.GET_PRINCIPAL_SESSION_KEY) {
        throw new AuthError(AuthErrorCode.BAD_PAYLOAD, `request type 0x${type.toString(16)} is not a ticket request`)
      }
      const head = decodeAuthorizerHead(dec)
      if (head.serviceId !== Service.AUTH) throw new AuthError(AuthErrorCode.BAD_TICKET, 'ticket request not made with the auth ticket')
      const info = this.verifyTicket(Service.AUTH, head.ticket, head.globalId)
      decodeAuthorizerBody(dec, info.sessionKey)
      dec.u8()
      return { info, keys: dec.u32() }
    })
    const entry = this.keyring.get(info.ticket.name)
    if (entry === undefined) throw new AuthError(AuthErrorCode.UNKNOWN_ENTITY, 'entity is no longer in the keyring')
    const infos = TICKET_SERVICES
      .filter((svc) => (keys & svc) !== 0)
      .map((svc) => this.buildSessionAuthInfo(svc, info.ticket, entry.caps, this.serviceTicketTtl))
    const enc = new Encoder(256)
    encodeTicketReplyHeader(enc, 0)
    encodeServiceTicketsInto(enc, info.sessionKey, infos)
    return { globalId: info.ticket.globalId, entity: info.ticket.name, payload: enc.finish() }
  }
}

type State = 'new' | 'challenged' | 'done'

export class CephxServerSession {
  readonly #server: CephxServer
  #state: State = 'new'
  #serverChallenge = 0n
  #entity: AuthEntityName = { type: 0, id: '' }
  #globalId = 0n
  #reclaim = false

  constructor (server: CephxServer) {
    this.#server = server
  }

  /** AUTH_REQUEST: read the mon auth payload, assign a global id, return the challenge. */
  handleRequest (authPayload: Uint8Array): Uint8Array {
    if (this.#state !== 'new') throw new AuthError(AuthErrorCode.BAD_STATE, 'auth request already handled')
    const req = decodeMonAuthRequest(authPayload)
    this.#entity = req.entity
    this.#reclaim = req.globalId !== 0n
    this.#globalId = this.#reclaim ? req.globalId : this.#server.allocateGlobalId()
    // do_start_session: never zero, since zero means "no challenge yet".
    let ch = 0n
    while (ch === 0n) ch = randomU64(this.#server.random)
    this.#serverChallenge = ch
    this.#state = 'challenged'
    return encodeServerChallenge(ch)
  }

  /**
   * AUTH_REQUEST_MORE: check the proof and the old ticket, then build the AUTH_DONE payload.
   * `connectionSecretLength` is 64 for secure mode and 0 for crc (connectionSecretLength()).
   */
  handleRequestMore (payload: Uint8Array, connectionSecretLength: number): CephxAuthOutcome {
    if (this.#state !== 'challenged') throw new AuthError(AuthErrorCode.BAD_STATE, 'no challenge outstanding')
    // One attempt per challenge, whatever the outcome.
    this.#state = 'done'
    const req = decodePlain(payload, 'cephx request', (dec) => {
      const type = decodeRequestType(dec)
      if (type !== CephxRequestType.GET_AUTH_SESSION_KEY) {
        throw new AuthError(AuthErrorCode.BAD_PAYLOAD, `request type 0x${type.toString(16)} during authentication`)
      }
      return decodeAuthenticateBody(dec)
    })
    const srv = this.#server
    const entry = srv.keyring.get(this.#entity)
    if (entry === undefined) throw new AuthError(AuthErrorCode.UNKNOWN_ENTITY, 'entity is not in the keyring')
    const expected = clientProof(entry.key, this.#serverChallenge, req.clientChallenge)
    if (!proofsEqual(expected, req.key)) throw new AuthError(AuthErrorCode.BAD_PROOF, 'client proof does not match')
    const ticketKey = this.#verifyOldTicket(req)
    const mon = entry.caps.get('mon')
    if (mon === undefined || mon === '') throw new AuthError(AuthErrorCode.ACCESS_DENIED, 'entity has no mon caps')
    if (req.otherKeys === 0 && connectionSecretLength > 0) {
      throw new AuthError(AuthErrorCode.BAD_MODE, 'secure mode needs a client that sends other_keys')
    }
    return this.#finish(entry, req, ticketKey, connectionSecretLength)
  }

  /** verify_old_ticket: a new id must come without a ticket, a reclaimed one with its valid ticket. */
  #verifyOldTicket (req: CephXAuthenticate): CryptoKey | undefined {
    const hasTicket = req.oldTicket.blob.length > 0
    if (!this.#reclaim) {
      if (hasTicket) throw new AuthError(AuthErrorCode.BAD_TICKET, 'superfluous ticket presented')
      return undefined
    }
    if (!hasTicket) throw new AuthError(AuthErrorCode.BAD_TICKET, 'global id reclaim without a ticket')
    const old = this.#server.openTicket(Service.AUTH, req.oldTicket)
    if (old.ticket.globalId !== this.#globalId) throw new AuthError(AuthErrorCode.BAD_TICKET, 'global id reclaim with a mismatching ticket')
    // The new ticket blob is encrypted with the old session key (should_enc_ticket).
    return old.sessionKey
  }

  #finish (entry: KeyringEntry, req: CephXAuthenticate, ticketKey: CryptoKey | undefined, secretLen: number): CephxAuthOutcome {
    const srv = this.#server
    const now = utimeFromMs(srv.clock.now())
    // The auth ticket carries no caps: the mon reads the entity's caps from its own database.
    const ticket: AuthTicket = {
      name: this.#entity,
      globalId: this.#globalId,
      created: now,
      expires: addSeconds(now, srv.authTicketTtl),
      caps: { allowAll: false, caps: new Uint8Array(0) },
      flags: 0
    }
    const sessionKey = CryptoKey.generate(srv.random, now)
    const secret = srv.secrets.current(Service.AUTH)
    const info: SessionAuthInfo = {
      serviceId: Service.AUTH,
      sessionKey,
      validity: { sec: srv.authTicketTtl, nsec: 0 },
      ticket: sealTicket({ ticket, sessionKey }, secret.key, secret.secretId)
    }
    const tickets = sealServiceTickets(entry.key, [info], ticketKey)
    let connectionSecret: Uint8Array = new Uint8Array(0)
    let cbl: Uint8Array | undefined
    let extra: Uint8Array | undefined
    if (req.otherKeys !== 0) {
      // Nautilus+ clients: connection secret and the other tickets ride along.
      connectionSecret = secretLen > 0 ? srv.random.bytes(secretLen) : new Uint8Array(0)
      cbl = encodeEncrypt(sessionKey, new Encoder(4 + secretLen).bufferlist(connectionSecret).finish())
      extra = srv.buildExtraTickets(req.otherKeys, ticket, entry.caps, sessionKey)
    }
    const payload = encodeAuthDone({
      header: { requestType: CephxRequestType.GET_AUTH_SESSION_KEY, status: 0 },
      tickets,
      connectionSecret: cbl,
      extra
    })
    return { entity: this.#entity, globalId: this.#globalId, sessionKey, connectionSecret, caps: entry.caps, payload }
  }
}
