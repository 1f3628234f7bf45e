// Ceph's crc32c convention: reflected Castagnoli polynomial, register seeded with the caller's
// value (0 in msgr v1), and no final inversion. That is not the "standard" CRC-32C (init and
// final XOR 0xFFFFFFFF), but it maps onto it: ceph_crc32c(seed, x) = ~std_crc32c(x, ~seed).
// @node-rs/crc32 computes the standard one with SSE4.2 / ARMv8 CRC instructions (~6-13 GB/s),
// but each call into it costs ~110-150 ns; below SMALL bytes a slicing-by-8 table in JS is faster
// (headers, footers-sized fronts and small data: three crcs per message on the hot path).
import { crc32c as stdCrc32c } from '@node-rs/crc32'

/** Inputs shorter than this use the JS tables (measured crossover: ~100 bytes on x86-64). */
const SMALL = 96

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

/** ceph_crc32c(seed, buf). Chain calls to cover a buffer in pieces: crc(crc(s, a), b) = crc(s, a+b). */
export function crc32c (buf: Uint8Array, seed = 0): number {
  if (buf.length < SMALL) return crc32cRange(buf, 0, buf.length, seed)
  return (~stdCrc32c(buf, (~seed) >>> 0)) >>> 0
}

/** ceph_crc32c over several buffers as if they were one. */
export function crc32cList (bufs: readonly Uint8Array[], seed = 0): number {
  let c = seed
  for (const b of bufs) c = crc32c(b, c)
  return c
}
