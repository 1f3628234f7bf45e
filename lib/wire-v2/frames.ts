// Typed payloads of the 20 frame tags (ceph frames_v2.h ControlFrame<> argument lists). A
// control frame has one segment; MESSAGE is header2 + front, middle, data (see message.ts).
// Payloads carry no struct versions: fields are read in order, and bytes after the last field
// are ignored, as Ceph's ControlFrame decoding does. 64-bit fields are bigints.
import { Decoder, Encoder } from '../messages/denc.ts'
import type { Utime } from '../messages/denc.ts'
import { decodeAddrFrom, decodeAddrvecFrom, encodeAddr, encodeAddrvec } from './addr.ts'
import type { EntityAddr } from './addr.ts'
import { Tag, tagName } from './constants.ts'
import { V2Error, V2ErrorCode, rethrowDenc } from './errors.ts'
import type { Frame } from './frame.ts'
import { DEFAULT_V2_LIMITS } from './limits.ts'

export const AUTH_SIGNATURE_LEN = 32

export interface HelloFrame { tag: typeof Tag.HELLO, entityType: number, peerAddr: EntityAddr }
export interface AuthRequestFrame { tag: typeof Tag.AUTH_REQUEST, method: number, preferredModes: number[], payload: Uint8Array }
export interface AuthBadMethodFrame { tag: typeof Tag.AUTH_BAD_METHOD, method: number, result: number, allowedMethods: number[], allowedModes: number[] }
export interface AuthReplyMoreFrame { tag: typeof Tag.AUTH_REPLY_MORE, payload: Uint8Array }
export interface AuthRequestMoreFrame { tag: typeof Tag.AUTH_REQUEST_MORE, payload: Uint8Array }
export interface AuthDoneFrame { tag: typeof Tag.AUTH_DONE, globalId: bigint, conMode: number, payload: Uint8Array }
/** HMAC-SHA256 of the peer's bytes (32 raw bytes, no length prefix); zeros under auth none. */
export interface AuthSignatureFrame { tag: typeof Tag.AUTH_SIGNATURE, signature: Uint8Array }
export interface IdentFields {
  addrs: EntityAddr[]
  gid: bigint
  globalSeq: bigint
  supportedFeatures: bigint
  requiredFeatures: bigint
  flags: bigint
  cookie: bigint
}
export interface ClientIdentFrame extends IdentFields { tag: typeof Tag.CLIENT_IDENT, targetAddr: EntityAddr }
export interface ServerIdentFrame extends IdentFields { tag: typeof Tag.SERVER_IDENT }
export interface IdentMissingFeaturesFrame { tag: typeof Tag.IDENT_MISSING_FEATURES, features: bigint }
export interface SessionReconnectFrame {
  tag: typeof Tag.SESSION_RECONNECT
  addrs: EntityAddr[]
  clientCookie: bigint
  serverCookie: bigint
  globalSeq: bigint
  connectSeq: bigint
  msgSeq: bigint
}
export interface SessionResetFrame { tag: typeof Tag.SESSION_RESET, full: boolean }
export interface SessionRetryFrame { tag: typeof Tag.SESSION_RETRY, connectSeq: bigint }
export interface SessionRetryGlobalFrame { tag: typeof Tag.SESSION_RETRY_GLOBAL, globalSeq: bigint }
export interface SessionReconnectOkFrame { tag: typeof Tag.SESSION_RECONNECT_OK, msgSeq: bigint }
/** One empty segment. */
export interface WaitFrame { tag: typeof Tag.WAIT }
export interface Keepalive2Frame { tag: typeof Tag.KEEPALIVE2, stamp: Utime }
export interface Keepalive2AckFrame { tag: typeof Tag.KEEPALIVE2_ACK, stamp: Utime }
export interface AckFrame { tag: typeof Tag.ACK, seq: bigint }

export type ControlFrame =
  | HelloFrame | AuthRequestFrame | AuthBadMethodFrame | AuthReplyMoreFrame | AuthRequestMoreFrame
  | AuthDoneFrame | AuthSignatureFrame | ClientIdentFrame | ServerIdentFrame | IdentMissingFeaturesFrame
  | SessionReconnectFrame | SessionResetFrame | SessionRetryFrame | SessionRetryGlobalFrame
  | SessionReconnectOkFrame | WaitFrame | Keepalive2Frame | Keepalive2AckFrame | AckFrame

function u32vec (enc: Encoder, v: readonly number[]): void {
  enc.u32(v.length)
  for (const x of v) enc.u32(x)
}

function encodeIdentTail (enc: Encoder, f: IdentFields): void {
  enc.s64(f.gid).u64(f.globalSeq).u64(f.supportedFeatures).u64(f.requiredFeatures).u64(f.flags).u64(f.cookie)
}

/** Segment 0 of a control frame. Throws RangeError/TypeError for values that do not fit. */
export function encodeControl (f: ControlFrame): Uint8Array {
  const enc = new Encoder(64)
  switch (f.tag) {
    case Tag.HELLO:
      enc.u8(f.entityType)
      encodeAddr(enc, f.peerAddr)
      break
    case Tag.AUTH_REQUEST:
      enc.u32(f.method)
      u32vec(enc, f.preferredModes)
      enc.bufferlist(f.payload)
      break
    case Tag.AUTH_BAD_METHOD:
      enc.u32(f.method).s32(f.result)
      u32vec(enc, f.allowedMethods)
      u32vec(enc, f.allowedModes)
      break
    case Tag.AUTH_REPLY_MORE:
    case Tag.AUTH_REQUEST_MORE:
      enc.bufferlist(f.payload)
      break
    case Tag.AUTH_DONE:
      enc.u64(f.globalId).u32(f.conMode).bufferlist(f.payload)
      break
    case Tag.AUTH_SIGNATURE:
      if (f.signature.length !== AUTH_SIGNATURE_LEN) throw new RangeError(`signature of ${f.signature.length} bytes, expected 32`)
      enc.bytes(f.signature)
      break
    case Tag.CLIENT_IDENT:
      encodeAddrvec(enc, f.addrs)
      encodeAddr(enc, f.targetAddr)
      encodeIdentTail(enc, f)
      break
    case Tag.SERVER_IDENT:
      encodeAddrvec(enc, f.addrs)
      encodeIdentTail(enc, f)
      break
    case Tag.IDENT_MISSING_FEATURES:
      enc.u64(f.features)
      break
    case Tag.SESSION_RECONNECT:
      encodeAddrvec(enc, f.addrs)
      enc.u64(f.clientCookie).u64(f.serverCookie).u64(f.globalSeq).u64(f.connectSeq).u64(f.msgSeq)
      break
    case Tag.SESSION_RESET:
      enc.bool(f.full)
      break
    case Tag.SESSION_RETRY:
      enc.u64(f.connectSeq)
      break
    case Tag.SESSION_RETRY_GLOBAL:
      enc.u64(f.globalSeq)
      break
    case Tag.SESSION_RECONNECT_OK:
      enc.u64(f.msgSeq)
      break
    case Tag.WAIT:
      break
    case Tag.KEEPALIVE2:
    case Tag.KEEPALIVE2_ACK:
      enc.utime(f.stamp)
      break
    case Tag.ACK:
      enc.u64(f.seq)
      break
  }
  return enc.finish()
}

function readU32s (dec: Decoder): number[] {
  return dec.array((d) => d.u32(), 4)
}

function identTail (dec: Decoder): Omit<IdentFields, 'addrs'> {
  return {
    gid: dec.s64(),
    globalSeq: dec.u64(),
    supportedFeatures: dec.u64(),
    requiredFeatures: dec.u64(),
    flags: dec.u64(),
    cookie: dec.u64()
  }
}

/** Copy out of the segment: payloads outlive the (possibly socket-chunk) buffer they came in. */
function copy (b: Uint8Array): Uint8Array {
  return b.slice()
}

function decodeWith (tag: number, dec: Decoder, base: number, maxAddrs: number): ControlFrame {
  switch (tag) {
    case Tag.HELLO:
      return { tag, entityType: dec.u8(), peerAddr: decodeAddrFrom(dec, base) }
    case Tag.AUTH_REQUEST:
      return { tag, method: dec.u32(), preferredModes: readU32s(dec), payload: copy(dec.bufferlist()) }
    case Tag.AUTH_BAD_METHOD:
      return { tag, method: dec.u32(), result: dec.s32(), allowedMethods: readU32s(dec), allowedModes: readU32s(dec) }
    case Tag.AUTH_REPLY_MORE:
    case Tag.AUTH_REQUEST_MORE:
      return { tag, payload: copy(dec.bufferlist()) }
    case Tag.AUTH_DONE:
      return { tag, globalId: dec.u64(), conMode: dec.u32(), payload: copy(dec.bufferlist()) }
    case Tag.AUTH_SIGNATURE:
      return { tag, signature: copy(dec.bytes(AUTH_SIGNATURE_LEN)) }
    case Tag.CLIENT_IDENT: {
      const addrs = decodeAddrvecFrom(dec, base, maxAddrs)
      const targetAddr = decodeAddrFrom(dec, base)
      return { tag, addrs, targetAddr, ...identTail(dec) }
    }
    case Tag.SERVER_IDENT: {
      const addrs = decodeAddrvecFrom(dec, base, maxAddrs)
      return { tag, addrs, ...identTail(dec) }
    }
    case Tag.IDENT_MISSING_FEATURES:
      return { tag, features: dec.u64() }
    case Tag.SESSION_RECONNECT:
      return {
        tag,
        addrs: decodeAddrvecFrom(dec, base, maxAddrs),
        clientCookie: dec.u64(),
        serverCookie: dec.u64(),
        globalSeq: dec.u64(),
        connectSeq: dec.u64(),
        msgSeq: dec.u64()
      }
    case Tag.SESSION_RESET:
      return { tag, full: dec.bool() }
    case Tag.SESSION_RETRY:
      return { tag, connectSeq: dec.u64() }
    case Tag.SESSION_RETRY_GLOBAL:
      return { tag, globalSeq: dec.u64() }
    case Tag.SESSION_RECONNECT_OK:
      return { tag, msgSeq: dec.u64() }
    case Tag.WAIT:
      return { tag }
    case Tag.KEEPALIVE2:
    case Tag.KEEPALIVE2_ACK:
      return { tag, stamp: dec.utime() }
    case Tag.ACK:
      return { tag, seq: dec.u64() }
  }
  throw new V2Error(V2ErrorCode.UNKNOWN_TAG, `${tagName(tag)} is not a control frame`, base)
}

/**
 * Decode segment 0 of a control frame with `tag`. `offset` is the segment's stream offset (for
 * errors). Throws V2Error: BAD_PAYLOAD, BAD_ADDR, TOO_LARGE, UNKNOWN_TAG.
 */
export function decodeControl (tag: number, seg0: Uint8Array, offset = 0, maxAddrs = DEFAULT_V2_LIMITS.maxAddrs): ControlFrame {
  try {
    return decodeWith(tag, new Decoder(seg0), offset, maxAddrs)
  } catch (e) {
    return rethrowDenc(e, V2ErrorCode.BAD_PAYLOAD, offset)
  }
}

/** Where segment 0 starts on the wire: right after the 32-byte preamble (crc mode). */
const SEG0_AT = 32

/** Decode a received control frame (one segment, any tag but MESSAGE). */
export function decodeControlFrame (f: Frame, maxAddrs = DEFAULT_V2_LIMITS.maxAddrs): ControlFrame {
  if (f.tag === Tag.MESSAGE) throw new V2Error(V2ErrorCode.BAD_PAYLOAD, 'MESSAGE is not a control frame', f.offset)
  if (f.numSegments !== 1) {
    throw new V2Error(V2ErrorCode.BAD_PAYLOAD, `${tagName(f.tag)} with ${f.numSegments} segments`, f.offset + 1)
  }
  return decodeControl(f.tag, f.segments[0], f.offset + SEG0_AT, maxAddrs)
}
