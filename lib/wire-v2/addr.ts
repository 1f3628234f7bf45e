// entity_addr_t in the "new" encoding every msgr2 frame uses (peer features include MSG_ADDR2):
//   u8 marker 1, u8 struct_v 1, u8 compat 1, u32 len, { u32 type, u32 nonce, u32 sockaddr_len, sockaddr }
// The sockaddr is Linux's raw struct with the family re-encoded little-endian (u16, host order),
// while the port and address stay in network order: `02 00 | 33 fe | 7f 00 00 01 | 8 x 00` for
// v2:127.0.0.1:13310 (so the v1 codec, whose family is big-endian, must not be reused as is).
// sockaddr_len is sizeof(sockaddr_in) = 16, sizeof(sockaddr_in6) = 28, or 28 (the whole union)
// for a blank address, as Ceph's get_sockaddr_len() says.
// entity_addrvec_t = u8 marker 2, u32 count, addresses.
import { Decoder, Encoder } from '../messages/denc.ts'
import { AF_INET, AF_INET6, AF_UNSPEC, decodeEntityAddr, encodeEntityAddrInto } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import { ENTITY_ADDR_LEN } from '../wire/constants.ts'
import { V2Error, V2ErrorCode, rethrowDenc } from './errors.ts'
import { DEFAULT_V2_LIMITS } from './limits.ts'

export type { EntityAddr }

const ADDR_MARKER = 1
const ADDRVEC_MARKER = 2
/** marker + v + compat + len + type + nonce + sockaddr_len: the smallest encoded address. */
export const MIN_ADDR_LEN = 1 + 1 + 1 + 4 + 12

/** Offsets in the v1 codec's 136-byte legacy image, reused here to format/parse IPs. */
const IMG_NONCE = 4
const IMG_FAMILY = 8
const IMG_SA_DATA = 10

function sockaddrLen (family: number): number {
  return family === AF_INET ? 16 : 28
}

/** Append one address in the new encoding. */
export function encodeAddr (enc: Encoder, a: EntityAddr): void {
  if (a.family !== AF_INET && a.family !== AF_INET6 && a.family !== AF_UNSPEC) {
    throw new RangeError(`address family ${a.family} cannot be encoded`)
  }
  // The legacy image already has port, address, flow info and scope laid out as in the sockaddr.
  const image = new Uint8Array(ENTITY_ADDR_LEN)
  encodeEntityAddrInto(a, image, 0)
  const salen = sockaddrLen(a.family)
  enc.u8(ADDR_MARKER).start(1, 1)
  enc.u32(a.type).u32(a.nonce >>> 0).u32(salen)
  enc.u16(a.family)
  enc.bytes(image.subarray(IMG_SA_DATA, IMG_SA_DATA + salen - 2))
  enc.finish()
}

/** Read one address in the new encoding (denc Decoder errors are converted by the caller). */
export function decodeAddrFrom (dec: Decoder, base: number): EntityAddr {
  const at = dec.pos
  const marker = dec.u8()
  if (marker !== ADDR_MARKER) {
    throw new V2Error(V2ErrorCode.BAD_ADDR, `entity_addr marker ${marker} (msgr2 frames use the new encoding, 1)`, base + at)
  }
  const s = dec.start(1, 'entity_addr_t')
  const type = dec.u32()
  const nonce = dec.u32()
  const lenAt = dec.pos
  const salen = dec.u32()
  const image = new Uint8Array(ENTITY_ADDR_LEN)
  const iv = new DataView(image.buffer)
  iv.setUint32(IMG_NONCE, nonce, true)
  let family: number = AF_UNSPEC
  if (salen !== 0) {
    if (salen < 2) throw new V2Error(V2ErrorCode.BAD_ADDR, `sockaddr length ${salen}`, base + lenAt)
    family = dec.u16()
    if (family !== AF_INET && family !== AF_INET6 && family !== AF_UNSPEC) {
      throw new V2Error(V2ErrorCode.BAD_ADDR, `address family ${family}`, base + lenAt + 4)
    }
    if (salen > sockaddrLen(family)) {
      throw new V2Error(V2ErrorCode.BAD_ADDR, `sockaddr length ${salen} too long for family ${family}`, base + lenAt)
    }
    iv.setUint16(IMG_FAMILY, family, false)
    image.set(dec.bytes(salen - 2), IMG_SA_DATA)
  }
  // DECODE_FINISH: a newer encoder may append fields; reading past the struct is an error.
  dec.skipTo(s.end)
  if (family === AF_UNSPEC) return { type, nonce, family: AF_UNSPEC, ip: '', port: 0 }
  return { ...decodeEntityAddr(image, 0, base + at), type }
}

/** Append an entity_addrvec_t. */
export function encodeAddrvec (enc: Encoder, addrs: readonly EntityAddr[]): void {
  enc.u8(ADDRVEC_MARKER)
  enc.u32(addrs.length)
  for (const a of addrs) encodeAddr(enc, a)
}

/**
 * Read an entity_addrvec_t; a lone address (marker 1) reads as a vector of one, as in Ceph.
 * More than `maxAddrs` addresses is refused before any is decoded.
 */
export function decodeAddrvecFrom (dec: Decoder, base: number, maxAddrs = DEFAULT_V2_LIMITS.maxAddrs): EntityAddr[] {
  const at = dec.pos
  const marker = dec.buf[at]
  if (marker === ADDR_MARKER && dec.remaining > 0) return [decodeAddrFrom(dec, base)]
  dec.u8()
  if (marker !== ADDRVEC_MARKER) throw new V2Error(V2ErrorCode.BAD_ADDR, `entity_addrvec marker ${marker}`, base + at)
  const n = dec.u32()
  if (n > maxAddrs) throw new V2Error(V2ErrorCode.TOO_LARGE, `${n} addresses, limit ${maxAddrs}`, base + at + 1)
  if (n * MIN_ADDR_LEN > dec.remaining) throw new V2Error(V2ErrorCode.BAD_ADDR, `${n} addresses cannot fit in ${dec.remaining} bytes`, base + at + 1)
  const out: EntityAddr[] = []
  for (let i = 0; i < n; i++) out.push(decodeAddrFrom(dec, base))
  return out
}

/** The bytes of one address. */
export function encodeAddrBytes (a: EntityAddr): Uint8Array {
  const enc = new Encoder(48)
  encodeAddr(enc, a)
  return enc.finish()
}

/** The bytes of an address vector. */
export function encodeAddrvecBytes (addrs: readonly EntityAddr[]): Uint8Array {
  const enc = new Encoder(8 + 48 * addrs.length)
  encodeAddrvec(enc, addrs)
  return enc.finish()
}

/** Decode one address that must fill `b` exactly. Throws V2Error. */
export function decodeAddr (b: Uint8Array, offset = 0): EntityAddr {
  const dec = new Decoder(b)
  try {
    const a = decodeAddrFrom(dec, offset)
    if (!dec.done) throw new V2Error(V2ErrorCode.BAD_ADDR, `${dec.remaining} bytes after the address`, offset + dec.pos)
    return a
  } catch (e) {
    return rethrowDenc(e, V2ErrorCode.BAD_ADDR, offset)
  }
}

/** Decode an address vector that must fill `b` exactly. Throws V2Error. */
export function decodeAddrvec (b: Uint8Array, offset = 0, maxAddrs = DEFAULT_V2_LIMITS.maxAddrs): EntityAddr[] {
  const dec = new Decoder(b)
  try {
    const v = decodeAddrvecFrom(dec, offset, maxAddrs)
    if (!dec.done) throw new V2Error(V2ErrorCode.BAD_ADDR, `${dec.remaining} bytes after the address vector`, offset + dec.pos)
    return v
  } catch (e) {
    return rethrowDenc(e, V2ErrorCode.BAD_ADDR, offset)
  }
}
