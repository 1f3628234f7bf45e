// Ceph's crc32c convention: reflected Castagnoli polynomial, register seeded with the caller's
// value (0 in msgr v1), and no final inversion. That is not the "standard" CRC-32C (init and
// final XOR 0xFFFFFFFF), but it maps onto it: ceph_crc32c(seed, x) = ~std_crc32c(x, ~seed).
//
// Three implementations, fastest available first:
// - 'native': our own N-API module (native/crc32c.c, built by `npm install` with node-gyp):
//   SSE4.2 CRC32 with three chains in flight, ~25 GB/s and ~70 ns per call on the bench VM.
// - 'node-rs': @node-rs/crc32 (prebuilt binaries from the registry, no compiler needed):
//   ~5-7 GB/s and ~100-200 ns per call there.
// - below SMALL bytes, a slicing-by-8 table in JS beats either call (headers, small fronts).
// CEPH_MSGR_CRC32C=node-rs forces the second (for comparisons and tests).
import { createRequire } from 'node:module'
import { crc32c as nodeRsCrc32c } from '@node-rs/crc32'
import { view } from './view.ts'

interface NativeCrc {
  crc32c: (buf: Uint8Array, seed: number, start?: number, end?: number) => number
  hardware: boolean
}

/** The module node-gyp built in the package's build/: two levels up from lib/wire, three from dist/lib/wire. */
function requireNative (): unknown {
  const require = createRequire(import.meta.url)
  try {
    return require('../../build/Release/crc32c.node')
  } catch {
    return require('../../../build/Release/crc32c.node')
  }
}

function loadNative (): NativeCrc | undefined {
  if (process.env.CEPH_MSGR_CRC32C === 'node-rs') return undefined
  try {
    const m = requireNative() as NativeCrc
    // Without SSE4.2 the native module runs a byte-table loop: @node-rs/crc32 is faster then.
    return m.hardware ? m : undefined
  } catch {
    return undefined
  }
}

const native = loadNative()

/** Which implementation large inputs go to: 'native' or 'node-rs'. */
export const crc32cImplementation: 'native' | 'node-rs' = native !== undefined ? 'native' : 'node-rs'

/** Inputs shorter than this use the JS tables (measured crossovers on x86-64: ~80 bytes against
 * the native module, ~100 against @node-rs/crc32). */
const SMALL = native !== undefined ? 80 : 96

// T[k * 256 + n]: crc of byte n followed by k zero bytes (slicing-by-8 tables).
const T = new Int32Array(8 * 256)
for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
  T[n] = c
}
for (let n = 0; n < 256; n++) {
  let c = T[n]
  for (let k = 1; k < 8; k++) { c = T[c & 0xff] ^ (c >>> 8); T[k * 256 + n] = c }
}

/** The crc after 8 more bytes, given as two little-endian words `a`, `b` (slicing-by-8). */
function step8 (c: number, a: number, b: number): number {
  const lo = c ^ a
  return T[1792 + (lo & 0xff)] ^ T[1536 + ((lo >>> 8) & 0xff)] ^ T[1280 + ((lo >>> 16) & 0xff)] ^ T[1024 + (lo >>> 24)] ^
    T[768 + (b & 0xff)] ^ T[512 + ((b >>> 8) & 0xff)] ^ T[256 + ((b >>> 16) & 0xff)] ^ T[b >>> 24]
}

/** ceph_crc32c(seed, buf[start, end)) in JS, without making a view. For short ranges. */
export function crc32cRange (buf: Uint8Array, start: number, end: number, seed = 0): number {
  let c = seed | 0
  let i = start
  const end8 = end - ((end - start) & 7)
  for (; i < end8; i += 8) {
    const lo = c ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24))
    c = T[1792 + (lo & 0xff)] ^ T[1536 + ((lo >>> 8) & 0xff)] ^ T[1280 + ((lo >>> 16) & 0xff)] ^ T[1024 + (lo >>> 24)] ^
      T[768 + buf[i + 4]] ^ T[512 + buf[i + 5]] ^ T[256 + buf[i + 6]] ^ T[buf[i + 7]]
  }
  for (; i < end; i++) c = T[(c ^ buf[i]) & 0xff] ^ (c >>> 8)
  return c >>> 0
}

/**
 * Copy n bytes from src (at so) to dst (at doff) and return ceph_crc32c(seed, those bytes): one
 * pass for a small payload that is copied out of its socket chunk anyway (the two passes cost
 * 55 ns for 64 bytes, this one 43).
 */
export function crc32cCopy (src: DataView, so: number, dst: DataView, doff: number, n: number, seed = 0): number {
  let c = seed | 0
  let i = 0
  const n8 = n - (n & 7)
  for (; i < n8; i += 8) {
    const a = src.getInt32(so + i, true)
    const b = src.getInt32(so + i + 4, true)
    dst.setInt32(doff + i, a, true)
    dst.setInt32(doff + i + 4, b, true)
    c = step8(c, a, b)
  }
  for (; i < n; i++) {
    const x = src.getUint8(so + i)
    dst.setUint8(doff + i, x)
    c = T[(c ^ x) & 0xff] ^ (c >>> 8)
  }
  return c >>> 0
}

/**
 * Copy src into dst at `at` (`dv`: a DataView of dst with the same offsets) and return
 * ceph_crc32c(0, src). Short ones go through the JS tables in the same pass as the copy; longer
 * ones are copied and handed to the native crc.
 */
export function crc32cCopyInto (src: Uint8Array, dst: Uint8Array, dv: DataView, at: number): number {
  const n = src.length
  if (n >= SMALL) {
    dst.set(src, at)
    return crc32c(src)
  }
  let c = 0
  let i = 0
  const n8 = n - (n & 7)
  for (; i < n8; i += 8) {
    const a = src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24)
    const b = src[i + 4] | (src[i + 5] << 8) | (src[i + 6] << 16) | (src[i + 7] << 24)
    dv.setInt32(at + i, a, true)
    dv.setInt32(at + i + 4, b, true)
    c = step8(c, a, b)
  }
  for (; i < n; i++) {
    const x = src[i]
    dst[at + i] = x
    c = T[(c ^ x) & 0xff] ^ (c >>> 8)
  }
  return c >>> 0
}

/** ceph_crc32c(seed, buf). Chain calls to cover a buffer in pieces: crc(crc(s, a), b) = crc(s, a+b). */
export function crc32c (buf: Uint8Array, seed = 0): number {
  if (buf.length < SMALL) return crc32cRange(buf, 0, buf.length, seed)
  if (native !== undefined) return native.crc32c(buf, seed >>> 0)
  return crc32cNodeRs(buf, seed)
}

/**
 * ceph_crc32c(seed, buf[start, end)) without a view of the range: the native call takes the range
 * itself. Measured in the receive path: a crc of 64 bytes in place in the socket chunk cost
 * half of one over a fresh view of the copy.
 */
export function crc32cAt (buf: Uint8Array, start: number, end: number, seed = 0): number {
  if (end - start < SMALL) return crc32cRange(buf, start, end, seed)
  if (native !== undefined) return native.crc32c(buf, seed >>> 0, start, end)
  return crc32cNodeRs(view(buf, start, end), seed)
}

/** The @node-rs/crc32 path whatever is loaded (for tests and benchmarks that compare the two). */
export function crc32cNodeRs (buf: Uint8Array, seed = 0): number {
  return (~nodeRsCrc32c(buf, (~seed) >>> 0)) >>> 0
}

/** The native module's path, or undefined where it is not built or has no hardware crc. */
export const crc32cNative: ((buf: Uint8Array, seed?: number) => number) | undefined =
  native === undefined ? undefined : (buf, seed = 0) => native.crc32c(buf, seed >>> 0)

/** ceph_crc32c over several buffers as if they were one. */
export function crc32cList (bufs: readonly Uint8Array[], seed = 0): number {
  let c = seed
  for (const b of bufs) c = crc32c(b, c)
  return c
}
