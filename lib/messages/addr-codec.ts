// entity_addr_t and entity_addrvec_t as they appear inside message payloads (as opposed to the
// fixed 136-byte form of the v1 banner, lib/wire/entity-addr.ts).
//
// Facts from Ceph's src/msg/msg_types.h:
// - Without the MSG_ADDR2 feature an address is written in the legacy 136-byte form (u32 0,
//   u32 nonce, sockaddr_storage with the family in network order).
// - With MSG_ADDR2: marker u8 1, then a versioned struct (v1, compat 1) holding u32 type, u32
//   nonce, u32 sockaddr length and the raw sockaddr. In this form the family is a u16 in host
//   order (little-endian; Ceph normalises other hosts to the Linux layout), the port and address
//   stay in network order. The length is sizeof(sockaddr_in) = 16 for IPv4, sizeof(sockaddr_in6)
//   = 28 for IPv6 and the size of the whole union (28) for anything else, a blank address included.
// - Peers without SERVER_NAUTILUS are sent type LEGACY in place of ANY.
// - An addrvec is marker u8 2 + u32 count + addresses; a decoder also accepts a lone address
//   (marker 0 or 1) as a vector of one. Without MSG_ADDR2 only the vector's legacy address is
//   sent, in the legacy form.
import { ENTITY_ADDR_LEN } from '../wire/constants.ts'
import { AF_INET, AF_INET6, AF_UNSPEC, AddrType, decodeEntityAddr, encodeEntityAddrInto } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import { isProtocolError } from '../wire/errors.ts'
import { Decoder, Encoder } from './denc.ts'

/** CEPH_FEATURE_MSG_ADDR2 (bit 59). */
export const FEATURE_MSG_ADDR2 = 1n << 59n
/**
 * HAVE_FEATURE(f, SERVER_NAUTILUS): bit 2 plus the "incarnation 3" bits 28 (SERVER_MIMIC) and 57
 * (SERVER_JEWEL) that Ceph requires alongside a reused bit.
 */
export const FEATUREMASK_SERVER_NAUTILUS = (1n << 2n) | (1n << 28n) | (1n << 57n)

export function hasServerNautilus (features: bigint): boolean {
  return (features & FEATUREMASK_SERVER_NAUTILUS) === FEATUREMASK_SERVER_NAUTILUS
}

/** sockaddr offsets inside the legacy 136-byte image: the family sits at 8, sa_data from 10. */
const SOCKADDR_AT = 8
const SA_DATA_AT = 10

/** get_sockaddr_len() on Linux. */
function sockaddrLen (family: number): number {
  return family === AF_INET ? 16 : 28
}

/** Ceph's default entity_addr_t: type NONE, everything zero. */
export function noneAddr (): EntityAddr {
  return { type: AddrType.NONE, nonce: 0, family: AF_UNSPEC, ip: '', port: 0 }
}

/** The address of a given type in a vector (addr_of_type), or the blank address. */
export function addrOfType (addrs: readonly EntityAddr[], type: number): EntityAddr {
  return addrs.find((a) => a.type === type) ?? noneAddr()
}

/** The v1 address of a vector (legacy_addr()), or the blank address. */
export function legacyAddr (addrs: readonly EntityAddr[]): EntityAddr {
  return addrOfType(addrs, AddrType.LEGACY)
}

/**
 * as_legacy_addr(): the v1 address, else an "any" address relabelled v1, else the first one
 * relabelled v1 (so old peers at least see a well-formed address).
 */
export function asLegacyAddr (addrs: readonly EntityAddr[]): EntityAddr {
  for (const a of addrs) {
    if (a.type === AddrType.LEGACY) return a
    if (a.type === AddrType.ANY) return { ...a, type: AddrType.LEGACY }
  }
  return { ...(addrs[0] ?? noneAddr()), type: AddrType.LEGACY }
}

/** Write one entity_addr_t the way Ceph does for a peer with `features`. */
export function encodeAddr (enc: Encoder, a: EntityAddr, features: bigint): void {
  const image = new Uint8Array(ENTITY_ADDR_LEN)
  encodeEntityAddrInto(a, image, 0)
  if ((features & FEATURE_MSG_ADDR2) === 0n) {
    enc.bytes(image)
    return
  }
  const type = !hasServerNautilus(features) && a.type === AddrType.ANY ? AddrType.LEGACY : a.type
  const len = sockaddrLen(a.family)
  enc.u8(1).start(1, 1)
  enc.u32(type).u32(a.nonce >>> 0).u32(len)
  enc.u16(a.family)
  enc.bytes(image.subarray(SA_DATA_AT, SA_DATA_AT + len - 2))
  enc.finish()
}

/** Turn a legacy-layout image into an EntityAddr; families Ceph cannot hold read as blank. */
function fromImage (dec: Decoder, image: Uint8Array, type: number, at: number): EntityAddr {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength)
  const family = view.getUint16(SOCKADDR_AT, false)
  const nonce = view.getUint32(4, true)
  if (family !== AF_INET && family !== AF_INET6) {
    // set_sockaddr() refuses unknown families, leaving an all-zero (unspecified) sockaddr.
    return { type, nonce, family: AF_UNSPEC, ip: '', port: 0 }
  }
  try {
    return { ...decodeEntityAddr(image, 0, at), type }
  } catch (e) {
    if (isProtocolError(e)) dec.fail(e.message, at)
    throw e
  }
}

/** Read one entity_addr_t in either form. */
export function decodeAddr (dec: Decoder): EntityAddr {
  const at = dec.pos
  const marker = dec.u8()
  if (marker === 0) return decodeLegacyAfterMarker(dec, at)
  if (marker !== 1) dec.fail(`entity_addr marker ${marker}`, at)
  return decodeAddr2AfterMarker(dec, at)
}

/** The 135 bytes after a legacy marker: the rest of the u32 type, nonce, sockaddr_storage. */
function decodeLegacyAfterMarker (dec: Decoder, at: number): EntityAddr {
  const image = new Uint8Array(ENTITY_ADDR_LEN)
  image.set(dec.bytes(ENTITY_ADDR_LEN - 1), 1)
  image.fill(0, 0, 4) // bytes 1-3 are ignored by Ceph
  const a = fromImage(dec, image, AddrType.LEGACY, at)
  // The legacy form carries no type: Ceph calls it LEGACY, or NONE when the family is unspecified.
  return a.family === AF_UNSPEC ? { ...a, type: AddrType.NONE } : a
}

function decodeAddr2AfterMarker (dec: Decoder, at: number): EntityAddr {
  const s = dec.start(1, 'entity_addr_t')
  const type = dec.u32()
  const nonce = dec.u32()
  const lenAt = dec.pos
  const len = dec.u32()
  const image = new Uint8Array(ENTITY_ADDR_LEN)
  const view = new DataView(image.buffer)
  view.setUint32(4, nonce, true)
  if (len !== 0) {
    if (len < 2) dec.fail(`sockaddr length ${len} smaller than the family`, lenAt)
    const family = dec.u16()
    if (len > sockaddrLen(family)) dec.fail(`sockaddr length ${len} too long for family ${family}`, lenAt)
    view.setUint16(SOCKADDR_AT, family, false)
    image.set(dec.bytes(len - 2), SA_DATA_AT)
  }
  dec.skipTo(s.end)
  return fromImage(dec, image, type, at)
}

/** Write an entity_addrvec_t for a peer with `features`. */
export function encodeAddrvec (enc: Encoder, addrs: readonly EntityAddr[], features: bigint): void {
  if ((features & FEATURE_MSG_ADDR2) === 0n) {
    encodeAddr(enc, legacyAddr(addrs), 0n)
    return
  }
  enc.u8(2)
  enc.array(addrs, (e, a) => encodeAddr(e, a, features))
}

/** Read an entity_addrvec_t, or a lone address of either form as a vector of one. */
export function decodeAddrvec (dec: Decoder): EntityAddr[] {
  const at = dec.pos
  const marker = dec.u8()
  if (marker === 0) return [decodeLegacyAfterMarker(dec, at)]
  if (marker === 1) return [decodeAddr2AfterMarker(dec, at)]
  if (marker !== 2) dec.fail(`entity_addrvec marker ${marker}`, at)
  // The smallest address is marker + struct header + three u32s.
  return dec.array((d) => decodeAddr(d), 19)
}

/** Convenience: the bytes of one address. */
export function encodeAddrBytes (a: EntityAddr, features: bigint): Uint8Array {
  const enc = new Encoder(48)
  encodeAddr(enc, a, features)
  return enc.finish()
}

/** Convenience: the bytes of an address vector. */
export function encodeAddrvecBytes (addrs: readonly EntityAddr[], features: bigint): Uint8Array {
  const enc = new Encoder(16 + 48 * addrs.length)
  encodeAddrvec(enc, addrs, features)
  return enc.finish()
}
