// The encrypted halves of cephx tickets (ceph src/auth/Auth.h, src/auth/cephx/CephxProtocol.{h,cc}):
//
//  A, for the client: CephXServiceTicket {u8 v=1, CryptoKey session_key, utime validity}, sealed with
//     the principal's key (the long-term key for the auth ticket, the auth session key for others).
//  B, for the service: CephXServiceTicketInfo {u8 v=1, AuthTicket, CryptoKey session_key}, sealed
//     with the service's rotating secret; the client carries it as the opaque CephXTicketBlob.
//
// AuthTicket v2: EntityName {u32 type, string id}, u64 global_id, u64 old auid (always
// CEPH_AUTH_UID_DEFAULT = u64 −1), utime created, utime expires, AuthCapsInfo {u8 v=1, u8 allow_all,
// bufferlist caps}, u32 flags. renew_after is not encoded.
import { Encoder } from '../messages/denc.ts'
import type { Decoder, Utime } from '../messages/denc.ts'
import { encryptEnvelope, openEnvelope } from './cephx-crypto.ts'
import { decodeTicketBlob, encodeServiceTicketReply, ticketBlobBytes } from './cephx-messages.ts'
import type { AuthEntityName, CephXTicketBlob, RawServiceTicket } from './cephx-messages.ts'
import { CryptoKey } from './crypto-key.ts'
import { AuthError, AuthErrorCode } from './errors.ts'
import { decodeSecret } from './payload.ts'

const AUTH_UID_DEFAULT = (1n << 64n) - 1n

export interface AuthCapsInfo {
  allowAll: boolean
  /** The encoded caps string (u32 length + text), as KeyServer stores it; empty for none. */
  caps: Uint8Array
}

export interface AuthTicket {
  name: AuthEntityName
  globalId: bigint
  created: Utime
  expires: Utime
  caps: AuthCapsInfo
  flags: number
}

export interface CephXServiceTicketInfo {
  ticket: AuthTicket
  sessionKey: CryptoKey
}

/** A for the client: the session key and how long it is valid (a duration, not a date). */
export interface CephXServiceTicket {
  sessionKey: CryptoKey
  validity: Utime
}

/** What the server knows about one ticket it hands out (CephXSessionAuthInfo). */
export interface SessionAuthInfo {
  serviceId: number
  sessionKey: CryptoKey
  validity: Utime
  /** B, already sealed with the service secret. */
  ticket: CephXTicketBlob
}

/** A ticket as the client holds it after opening a reply. */
export interface OpenedServiceTicket {
  serviceId: number
  sessionKey: CryptoKey
  validity: Utime
  ticket: CephXTicketBlob
}

export function encodeAuthTicket (enc: Encoder, t: AuthTicket): void {
  enc.u8(2).u32(t.name.type).string(t.name.id).u64(t.globalId).u64(AUTH_UID_DEFAULT)
  enc.utime(t.created).utime(t.expires)
  enc.u8(1).bool(t.caps.allowAll).bufferlist(t.caps.caps)
  enc.u32(t.flags)
}

export function decodeAuthTicket (dec: Decoder): AuthTicket {
  const v = dec.u8()
  const type = dec.u32()
  const id = dec.string()
  const globalId = dec.u64()
  if (v >= 2) dec.u64()
  const created = dec.utime()
  const expires = dec.utime()
  dec.u8()
  const allowAll = dec.bool()
  const caps = Uint8Array.from(dec.bufferlist())
  return { name: { type, id }, globalId, created, expires, caps: { allowAll, caps }, flags: dec.u32() }
}

export function encodeServiceTicketInfo (info: CephXServiceTicketInfo): Uint8Array {
  const enc = new Encoder(128)
  enc.u8(1)
  encodeAuthTicket(enc, info.ticket)
  info.sessionKey.encode(enc)
  return enc.finish()
}

export function decodeServiceTicketInfo (dec: Decoder): CephXServiceTicketInfo {
  dec.u8()
  const ticket = decodeAuthTicket(dec)
  return { ticket, sessionKey: CryptoKey.decode(dec) }
}

/** cephx_build_service_ticket_blob: seal B with a service secret. */
export function sealTicket (info: CephXServiceTicketInfo, serviceSecret: CryptoKey, secretId: bigint): CephXTicketBlob {
  return { secretId, blob: encryptEnvelope(serviceSecret, encodeServiceTicketInfo(info)) }
}

/** cephx_decode_ticket's decryption step: open B with the secret named by its secret_id. */
export function openTicket (blob: CephXTicketBlob, serviceSecret: CryptoKey): CephXServiceTicketInfo {
  if (blob.blob.length === 0) throw new AuthError(AuthErrorCode.BAD_TICKET, 'empty ticket')
  return openEnvelope(serviceSecret, blob.blob, decodeServiceTicketInfo)
}

function encodeServiceTicket (t: CephXServiceTicket): Uint8Array {
  const enc = new Encoder(40)
  enc.u8(1)
  t.sessionKey.encode(enc)
  return enc.utime(t.validity).finish()
}

function decodeServiceTicket (dec: Decoder): CephXServiceTicket {
  dec.u8()
  const sessionKey = CryptoKey.decode(dec)
  return { sessionKey, validity: dec.utime() }
}

/**
 * cephx_build_service_ticket_reply: the raw entries for a service_ticket_reply. With
 * `ticketKey` (a renewal that presented a valid old ticket) each ticket blob is itself encrypted
 * with that key, the previous session key.
 */
export function sealServiceTickets (principalKey: CryptoKey, infos: readonly SessionAuthInfo[], ticketKey?: CryptoKey): RawServiceTicket[] {
  return infos.map((info) => {
    const sealedSession = encryptEnvelope(principalKey, encodeServiceTicket(info))
    const blob = ticketBlobBytes(info.ticket)
    // Encrypted, the payload is the bufferlist holding the encoded blob (encode_encrypt of a bufferlist).
    const ticket = ticketKey === undefined ? blob : encryptEnvelope(ticketKey, new Encoder(blob.length + 4).bufferlist(blob).finish())
    return { serviceId: info.serviceId, sealedSession, ticketEncrypted: ticketKey !== undefined, ticket }
  })
}

/** Encode a whole service_ticket_reply. */
export function buildServiceTicketReply (principalKey: CryptoKey, infos: readonly SessionAuthInfo[], ticketKey?: CryptoKey): Uint8Array {
  const enc = new Encoder(256)
  encodeServiceTicketsInto(enc, principalKey, infos, ticketKey)
  return enc.finish()
}

/** Append a service_ticket_reply to an encoder. */
export function encodeServiceTicketsInto (enc: Encoder, principalKey: CryptoKey, infos: readonly SessionAuthInfo[], ticketKey?: CryptoKey): void {
  encodeServiceTicketReply(enc, sealServiceTickets(principalKey, infos, ticketKey))
}

/**
 * CephXTicketHandler::verify_service_ticket_reply for each entry: open A with the principal's key;
 * an encrypted ticket blob is opened with `ticketKey` (the previous session key of that service).
 */
export function openServiceTickets (principalKey: CryptoKey, entries: readonly RawServiceTicket[], ticketKey?: (serviceId: number) => CryptoKey | undefined): OpenedServiceTicket[] {
  return entries.map((e) => {
    const a = openEnvelope(principalKey, e.sealedSession, decodeServiceTicket)
    let ticket: CephXTicketBlob
    if (e.ticketEncrypted) {
      const key = ticketKey?.(e.serviceId)
      if (key === undefined) throw new AuthError(AuthErrorCode.BAD_TICKET, `encrypted ticket for service ${e.serviceId} but no previous session key`)
      ticket = openEnvelope(key, e.ticket, (d) => decodeSecret(d.bufferlist(), decodeTicketBlob))
    } else {
      ticket = decodeSecret(e.ticket, decodeTicketBlob)
    }
    return { serviceId: e.serviceId, sessionKey: a.sessionKey, validity: a.validity, ticket: { secretId: ticket.secretId, blob: Uint8Array.from(ticket.blob) } }
  })
}
