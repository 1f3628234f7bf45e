// The plain (not encrypted) structures of the msgr2 auth payloads: the mon auth request, the cephx
// request/response headers, CephXServerChallenge, CephXAuthenticate, CephXTicketBlob and the
// service_ticket_reply framing. Layouts: ceph src/auth/cephx/CephxProtocol.h and the captures.
import type { AuthEntityName } from '../messages/auth.ts'
import { Encoder } from '../messages/denc.ts'
import type { Decoder } from '../messages/denc.ts'
import { AuthError, AuthErrorCode } from './errors.ts'
import { decodePlain } from './payload.ts'

export type { AuthEntityName }

/** CEPH_AUTH_* in AUTH_REQUEST.method. */
export const AuthMethod = {
  NONE: 1,
  CEPHX: 2
} as const

/** CEPH_CON_MODE_* in preferred_modes and AUTH_DONE.con_mode. */
export const ConMode = {
  CRC: 1,
  SECURE: 2
} as const

/** AuthConnectionMeta::get_connection_secret_length(): 64 bytes for secure mode, none for crc. */
export function connectionSecretLength (conMode: number): number {
  return conMode === ConMode.SECURE ? 64 : 0
}

/** First byte of an AUTH_REQUEST payload: who is being talked to (ceph src/auth/Auth.h). */
export const AuthMode = {
  AUTHORIZER: 1,
  AUTHORIZER_MAX: 9,
  MON: 10,
  MON_MAX: 19
} as const

export const CephxRequestType = {
  GET_AUTH_SESSION_KEY: 0x0100,
  GET_PRINCIPAL_SESSION_KEY: 0x0200,
  GET_ROTATING_KEY: 0x0400
} as const

/** Ticket services are entity types (CEPH_ENTITY_TYPE_*). */
export const Service = {
  MON: 0x01,
  MDS: 0x02,
  OSD: 0x04,
  MGR: 0x10,
  AUTH: 0x20
} as const

/** Longest entity id we accept from a peer (Ceph has no limit; this only bounds allocation). */
const MAX_ENTITY_ID = 4096

// ---- mon auth request (AUTH_REQUEST payload for a mon, cephx and none alike) ----

export interface MonAuthRequest {
  /** AUTH_MODE_MON (10) from a client; it is not a struct version. */
  authMode: number
  entity: AuthEntityName
  /** 0 on first contact; the old id when reconnecting (then cephx needs the old ticket). */
  globalId: bigint
}

export function encodeMonAuthRequest (r: MonAuthRequest): Uint8Array {
  return new Encoder(32).u8(r.authMode).u32(r.entity.type).string(r.entity.id).u64(r.globalId).finish()
}

export function decodeMonAuthRequest (payload: Uint8Array): MonAuthRequest {
  return decodePlain(payload, 'mon auth request', (dec) => {
    const authMode = dec.u8()
    if (authMode < AuthMode.MON || authMode > AuthMode.MON_MAX) {
      throw new AuthError(AuthErrorCode.BAD_PAYLOAD, `auth mode ${authMode} is not a mon auth mode`)
    }
    const type = dec.u32()
    const id = dec.string(MAX_ENTITY_ID)
    return { authMode, entity: { type, id }, globalId: dec.u64() }
  })
}

// ---- CephXTicketBlob {u8 v=1, u64 secret_id, bufferlist blob} ----

export interface CephXTicketBlob {
  /** Which rotating service secret encrypted the blob (u64 −1: the service's own key). */
  secretId: bigint
  /** encode_encrypt_enc_bl(CephXServiceTicketInfo, service secret): opaque to clients. */
  blob: Uint8Array
}

export const EMPTY_TICKET: CephXTicketBlob = { secretId: 0n, blob: new Uint8Array(0) }

export function encodeTicketBlob (enc: Encoder, t: CephXTicketBlob): void {
  enc.u8(1).u64(t.secretId).bufferlist(t.blob)
}

export function decodeTicketBlob (dec: Decoder): CephXTicketBlob {
  dec.u8()
  const secretId = dec.u64()
  return { secretId, blob: dec.bufferlist() }
}

export function ticketBlobBytes (t: CephXTicketBlob): Uint8Array {
  const enc = new Encoder(13 + t.blob.length)
  encodeTicketBlob(enc, t)
  return enc.finish()
}

// ---- CephXServerChallenge {u8 v=1, u64 server_challenge}: the AUTH_REPLY_MORE payload ----

export function encodeServerChallenge (serverChallenge: bigint): Uint8Array {
  return new Encoder(9).u8(1).u64(serverChallenge).finish()
}

export function decodeServerChallenge (payload: Uint8Array): bigint {
  return decodePlain(payload, 'server challenge', (dec) => {
    dec.u8()
    return dec.u64()
  })
}

// ---- requests: CephXRequestHeader {u16 type} + body ----

export interface CephXAuthenticate {
  /** 3 from current clients: v3 promises old_ticket is always sent when reclaiming a global id. */
  structV: number
  clientChallenge: bigint
  /** The proof (see cephx-proof.ts). */
  key: bigint
  oldTicket: CephXTicketBlob
  /** Bitmask of services whose tickets should come back in the same reply (struct_v >= 2). */
  otherKeys: number
}

/** The AUTH_REQUEST_MORE payload of a first (or renewed) cephx authentication. */
export function encodeAuthenticate (req: CephXAuthenticate): Uint8Array {
  const enc = new Encoder(40 + req.oldTicket.blob.length)
  enc.u16(CephxRequestType.GET_AUTH_SESSION_KEY)
  enc.u8(req.structV).u64(req.clientChallenge).u64(req.key)
  encodeTicketBlob(enc, req.oldTicket)
  if (req.structV >= 2) enc.u32(req.otherKeys)
  return enc.finish()
}

export function decodeAuthenticateBody (dec: Decoder): CephXAuthenticate {
  const structV = dec.u8()
  const clientChallenge = dec.u64()
  const key = dec.u64()
  const oldTicket = decodeTicketBlob(dec)
  const otherKeys = structV >= 2 ? dec.u32() : 0
  return { structV, clientChallenge, key, oldTicket, otherKeys }
}

/** Read the u16 request type that starts every cephx request. */
export function decodeRequestType (dec: Decoder): number {
  return dec.u16()
}

// ---- responses: CephXResponseHeader {u16 request_type, s32 status} + body ----

export interface CephXResponseHeader {
  requestType: number
  status: number
}

export function encodeResponseHeader (enc: Encoder, h: CephXResponseHeader): void {
  enc.u16(h.requestType).s32(h.status)
}

export function decodeResponseHeader (dec: Decoder): CephXResponseHeader {
  const requestType = dec.u16()
  return { requestType, status: dec.s32() }
}

// ---- service_ticket_reply framing: u8 v=1, u32 n, n × entry ----

/** One entry as it sits on the wire, before any decryption. */
export interface RawServiceTicket {
  serviceId: number
  /** encode_encrypt(CephXServiceTicket) contents, under the principal's key. */
  sealedSession: Uint8Array
  /** Whether `ticket` is encrypted (with the previous session key, on a renewal). */
  ticketEncrypted: boolean
  /** The bufferlist after ticket_enc: an encoded CephXTicketBlob, or its encryption. */
  ticket: Uint8Array
}

export function encodeServiceTicketReply (enc: Encoder, entries: readonly RawServiceTicket[]): void {
  enc.u8(1).u32(entries.length)
  for (const e of entries) {
    enc.u32(e.serviceId).u8(1).bufferlist(e.sealedSession).bool(e.ticketEncrypted).bufferlist(e.ticket)
  }
}

/** Smallest entry: u32 + u8 + u32 + u8 + u32. */
const MIN_TICKET_ENTRY = 14

export function decodeServiceTicketReply (dec: Decoder): RawServiceTicket[] {
  dec.u8()
  const at = dec.pos
  const n = dec.u32()
  if (n * MIN_TICKET_ENTRY > dec.remaining) dec.fail(`${n} tickets cannot fit in ${dec.remaining} bytes`, at)
  const out: RawServiceTicket[] = []
  for (let i = 0; i < n; i++) {
    const serviceId = dec.u32()
    dec.u8()
    const sealedSession = dec.bufferlist()
    const ticketEncrypted = dec.bool()
    out.push({ serviceId, sealedSession, ticketEncrypted, ticket: dec.bufferlist() })
  }
  return out
}

// ---- AUTH_DONE payload of GET_AUTH_SESSION_KEY ----

export interface RawAuthDone {
  header: CephXResponseHeader
  tickets: RawServiceTicket[]
  /**
   * encode_encrypt(string connection_secret, session key) contents, and the `extra` tickets
   * (service_ticket_reply under the session key). Both are absent when the client sent
   * other_keys = 0 (pre-Nautilus clients).
   */
  connectionSecret?: Uint8Array
  extra?: Uint8Array
}

export function encodeAuthDone (d: RawAuthDone): Uint8Array {
  const enc = new Encoder(256)
  encodeResponseHeader(enc, d.header)
  encodeServiceTicketReply(enc, d.tickets)
  if (d.connectionSecret !== undefined || d.extra !== undefined) {
    enc.bufferlist(d.connectionSecret ?? new Uint8Array(0)).bufferlist(d.extra ?? new Uint8Array(0))
  }
  return enc.finish()
}

export function decodeAuthDone (payload: Uint8Array): RawAuthDone {
  return decodePlain(payload, 'cephx auth done', (dec) => {
    const header = decodeResponseHeader(dec)
    if (header.status !== 0) return { header, tickets: [] }
    const tickets = decodeServiceTicketReply(dec)
    if (dec.done) return { header, tickets }
    const connectionSecret = dec.bufferlist()
    return { header, tickets, connectionSecret, extra: dec.bufferlist() }
  })
}
