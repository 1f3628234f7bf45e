// The cephx authorizer (ceph CephXTicketHandler::build_authorizer, cephx_verify_authorizer) and the
// CEPHX_GET_PRINCIPAL_SESSION_KEY request built on it: with its auth ticket a client asks the mon
// for fresh service tickets (MonClient sends it in an MAuth message when tickets need renewal).
//
//   authorizer = u8 v=1, u64 global_id, u32 service_id, CephXTicketBlob,
//                encode_encrypt(CephXAuthorize {u8 v=2, u64 nonce, bool have_challenge,
//                                               u64 server_challenge+1}, ticket session key)
//   request    = u16 0x0200, authorizer (for the AUTH service), CephXServiceTicketRequest {u8 v=1, u32 keys}
//   reply      = CephXResponseHeader {0x0200, status}, service_ticket_reply sealed with the auth session key
//
// The authorizer is also what a client sends to an OSD/MGR; that exchange (challenge, reply with
// nonce+1 and connection secret) is not implemented here.
import { Encoder } from '../messages/denc.ts'
import type { Decoder } from '../messages/denc.ts'
import { readDecrypted, writeEncrypted } from './cephx-crypto.ts'
import { CephxRequestType, Service, decodeResponseHeader, decodeServiceTicketReply, decodeTicketBlob, encodeResponseHeader, encodeTicketBlob } from './cephx-messages.ts'
import type { CephXTicketBlob } from './cephx-messages.ts'
import { openServiceTickets } from './cephx-tickets.ts'
import type { OpenedServiceTicket } from './cephx-tickets.ts'
import type { CryptoKey } from './crypto-key.ts'
import { AuthError, AuthErrorCode } from './errors.ts'
import { decodePlain } from './payload.ts'

export interface Authorizer {
  globalId: bigint
  serviceId: number
  ticket: CephXTicketBlob
  nonce: bigint
  /** Set when answering a CephXAuthorizeChallenge. */
  serverChallengePlusOne?: bigint
}

export function encodeAuthorizer (enc: Encoder, a: Authorizer, sessionKey: CryptoKey): void {
  enc.u8(1).u64(a.globalId).u32(a.serviceId)
  encodeTicketBlob(enc, a.ticket)
  const body = new Encoder(18).u8(2).u64(a.nonce).bool(a.serverChallengePlusOne !== undefined).u64(a.serverChallengePlusOne ?? 0n).finish()
  writeEncrypted(enc, sessionKey, body)
}

/** The plain half of an authorizer; the caller finds the session key by opening `ticket`. */
export interface AuthorizerHead {
  globalId: bigint
  serviceId: number
  ticket: CephXTicketBlob
}

export function decodeAuthorizerHead (dec: Decoder): AuthorizerHead {
  dec.u8()
  const globalId = dec.u64()
  const serviceId = dec.u32()
  return { globalId, serviceId, ticket: decodeTicketBlob(dec) }
}

/** The encrypted half (CephXAuthorize), opened with the ticket's session key. */
export function decodeAuthorizerBody (dec: Decoder, sessionKey: CryptoKey): { nonce: bigint, serverChallengePlusOne?: bigint } {
  return readDecrypted(dec, sessionKey, (d) => {
    const v = d.u8()
    const nonce = d.u64()
    if (v < 2) return { nonce }
    const have = d.bool()
    const plusOne = d.u64()
    return have ? { nonce, serverChallengePlusOne: plusOne } : { nonce }
  })
}

/** A CEPHX_GET_PRINCIPAL_SESSION_KEY request for the services in `keys`. */
export function encodeTicketRequest (auth: { globalId: bigint, sessionKey: CryptoKey, ticket: CephXTicketBlob }, keys: number, nonce: bigint): Uint8Array {
  const enc = new Encoder(256)
  enc.u16(CephxRequestType.GET_PRINCIPAL_SESSION_KEY)
  encodeAuthorizer(enc, { globalId: auth.globalId, serviceId: Service.AUTH, ticket: auth.ticket, nonce }, auth.sessionKey)
  enc.u8(1).u32(keys)
  return enc.finish()
}

/** Read the reply to a ticket request with the auth session key. */
export function openTicketReply (payload: Uint8Array, authSessionKey: CryptoKey): OpenedServiceTicket[] {
  const entries = decodePlain(payload, 'ticket reply', (dec) => {
    const h = decodeResponseHeader(dec)
    if (h.requestType !== CephxRequestType.GET_PRINCIPAL_SESSION_KEY) {
      throw new AuthError(AuthErrorCode.BAD_PAYLOAD, `reply to request type 0x${h.requestType.toString(16)}`)
    }
    if (h.status !== 0) throw new AuthError(AuthErrorCode.REJECTED, `status ${h.status}`)
    return decodeServiceTicketReply(dec)
  })
  return openServiceTickets(authSessionKey, entries)
}

export function encodeTicketReplyHeader (enc: Encoder, status: number): void {
  encodeResponseHeader(enc, { requestType: CephxRequestType.GET_PRINCIPAL_SESSION_KEY, status })
}
