// The msgr2 banner: "ceph v2\n", u16 payload_len, then supported and required msgr2 feature bits
// (u64 each). Both sides send it at connect time without waiting, and rev1 framing is chosen
// from the peer's supported bits (ceph ProtocolV2::_handle_peer_banner_payload).
import { BANNER_LEN, BANNER_PAYLOAD_LEN, BANNER_PAYLOAD_MAX, BANNER_PREFIX, Msgr2Feature, V1_BANNER } from './constants.ts'
import { V2Error, V2ErrorCode } from './errors.ts'

export interface Banner {
  supported: bigint
  required: bigint
}

/** What this implementation offers: msgr2.1 only (no compression; Pacific has none). */
export const OUR_BANNER: Banner = { supported: Msgr2Feature.REVISION_1, required: 0n }

export function encodeBanner (b: Banner = OUR_BANNER): Uint8Array {
  const out = new Uint8Array(BANNER_LEN)
  out.set(BANNER_PREFIX, 0)
  const dv = new DataView(out.buffer)
  dv.setUint16(8, BANNER_PAYLOAD_LEN, true)
  dv.setBigUint64(10, BigInt.asUintN(64, b.supported), true)
  dv.setBigUint64(18, BigInt.asUintN(64, b.required), true)
  return out
}

/**
 * Check the first `n` bytes received against the prefix, so garbage (or a v1 peer) is refused as
 * soon as it shows instead of after 26 bytes. `n` bytes of `b` from `at` have arrived; `offset`
 * is the stream offset of b[at] (for errors).
 */
export function checkBannerPrefix (b: Uint8Array, at: number, n: number, offset: number): void {
  const m = Math.min(n, BANNER_PREFIX.length)
  for (let i = 0; i < m; i++) {
    if (b[at + i] === BANNER_PREFIX[i]) continue
    // "ceph v0..." is msgr v1's "ceph v027": say so, the caller may want to retry with v1.
    let v1 = true
    for (let j = 0; j <= i; j++) if (b[at + j] !== V1_BANNER[j]) v1 = false
    if (v1) throw new V2Error(V2ErrorCode.V1_PEER, 'peer sent the msgr v1 banner "ceph v027"', offset + i)
    throw new V2Error(V2ErrorCode.BAD_BANNER, 'peer did not send the "ceph v2\\n" banner', offset + i)
  }
}

/**
 * The banner's length from its first 10 bytes (prefix + payload_len), or undefined when fewer
 * have arrived. A payload shorter than two u64s, or absurdly long, is refused.
 */
export function bannerLength (b: Uint8Array, at: number, n: number, offset: number): number | undefined {
  checkBannerPrefix(b, at, n, offset)
  if (n < 10) return undefined
  const len = b[at + 8] | (b[at + 9] << 8)
  if (len < BANNER_PAYLOAD_LEN || len > BANNER_PAYLOAD_MAX) {
    throw new V2Error(V2ErrorCode.BAD_BANNER, `banner payload_len ${len}`, offset + 8)
  }
  return 10 + len
}

/** Decode a whole banner (`b` holds at least bannerLength() bytes from `at`). Extra payload is ignored. */
export function decodeBanner (b: Uint8Array, at = 0, offset = at): Banner {
  const len = bannerLength(b, at, b.length - at, offset)
  if (len === undefined || b.length - at < len) throw new V2Error(V2ErrorCode.TRUNCATED, 'banner incomplete', offset + b.length - at)
  const dv = new DataView(b.buffer, b.byteOffset + at, 26)
  return { supported: dv.getBigUint64(10, true), required: dv.getBigUint64(18, true) }
}

export interface Negotiated {
  /** msgr2.1 framing: true iff the peer supports REVISION_1. This codec implements rev1 only. */
  rev1: boolean
  /** Features both sides support. */
  common: bigint
}

/**
 * ProtocolV2's banner check: either side requiring what the other lacks ends the connection.
 * Throws FEATURES_MISMATCH.
 */
export function negotiateBanner (peer: Banner, ours: Banner = OUR_BANNER): Negotiated {
  const peerMissing = peer.required & ~ours.supported
  if (peerMissing !== 0n) {
    throw new V2Error(V2ErrorCode.FEATURES_MISMATCH, `peer requires msgr2 features 0x${peerMissing.toString(16)} we lack`, 0)
  }
  const weMiss = ours.required & ~peer.supported
  if (weMiss !== 0n) {
    throw new V2Error(V2ErrorCode.FEATURES_MISMATCH, `peer lacks required msgr2 features 0x${weMiss.toString(16)}`, 0)
  }
  return { rev1: (peer.supported & Msgr2Feature.REVISION_1) !== 0n, common: peer.supported & ours.supported }
}
