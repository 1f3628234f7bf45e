// Ceph's payload encoding ("denc"): little-endian integers, u32-length-prefixed strings and
// bufferlists, and versioned structs framed by ENCODE_START (u8 struct_v, u8 struct_compat,
// u32 struct_len, body) so an older decoder can skip what it does not know.
import { ErrorCode, ProtocolError } from '../wire/errors.ts'

/** utime_t / ceph_timespec: u32 seconds + u32 nanoseconds. */
export interface Utime {
  sec: number
  nsec: number
}

/** What DECODE_START read: the struct's version, its compat version and where its body ends. */
export interface StructHeader {
  v: number
  compat: number
  /** Offset just past the struct's body (use with Decoder.skipTo). */
  end: number
}

/** Default upper bound for a decoded string or bufferlist (the buffer's size bounds it anyway). */
export const DEFAULT_MAX_LENGTH = 64 * 1024 * 1024

const U64_MAX = (1n << 64n) - 1n
const S64_MIN = -(1n << 63n)
const S64_MAX = (1n << 63n) - 1n

const utf8Encoder = new TextEncoder()
// Not fatal: Ceph strings are raw bytes, so a stray invalid sequence must not abort decoding.
// ignoreBOM: a leading U+FEFF is part of a Ceph string, not a byte-order mark to drop.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true })

function checkInt (v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${what} out of range: ${v}`)
}

function toBigInt (v: number | bigint, min: bigint, max: bigint, what: string): bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`${what} is not a safe integer: ${v}`)
  const b = BigInt(v)
  if (b < min || b > max) throw new RangeError(`${what} out of range: ${v}`)
  return b
}

/** Bytes of a UUID given as 32 hex digits, with or without the usual dashes. */
export function uuidToBytes (uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '')
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`not a uuid: ${uuid}`)
  const out = new Uint8Array(16)
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** Lower-case dashed text form (8-4-4-4-12) of 16 UUID bytes. */
export function uuidFromBytes (b: Uint8Array): string {
  let hex = ''
  for (let i = 0; i < 16; i++) hex += (b[i] ?? 0).toString(16).padStart(2, '0')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Byte-wise comparison of the UTF-8 forms: the order of a std::map/std::set keyed by std::string. */
export function compareStrings (a: string, b: string): number {
  return Buffer.compare(utf8Encoder.encode(a), utf8Encoder.encode(b))
}

/** A growable little-endian writer. */
export class Encoder {
  private buf: Uint8Array
  private view: DataView
  private pos = 0
  /** Offsets of the u32 length fields of the structs still open. */
  private readonly open: number[] = []

  constructor (capacity = 64) {
    this.buf = new Uint8Array(Math.max(8, capacity))
    this.view = new DataView(this.buf.buffer)
  }

  /** Bytes written so far. */
  get length (): number {
    return this.pos
  }

  /**
   * Make room for n more bytes and return where they go. It may replace buf and view, so callers
   * must call it before reading either.
   */
  private reserve (n: number): number {
    const at = this.pos
    const need = at + n
    if (need > this.buf.length) {
      let size = this.buf.length * 2
      while (size < need) size *= 2
      const grown = new Uint8Array(size)
      grown.set(this.buf.subarray(0, at))
      this.buf = grown
      this.view = new DataView(grown.buffer)
    }
    this.pos = need
    return at
  }

  u8 (v: number): this {
    checkInt(v, 0, 0xff, 'u8')
    const at = this.reserve(1)
    this.buf[at] = v
    return this
  }

  u16 (v: number): this {
    checkInt(v, 0, 0xffff, 'u16')
    const at = this.reserve(2)
    this.view.setUint16(at, v, true)
    return this
  }

  u32 (v: number): this {
    checkInt(v, 0, 0xffffffff, 'u32')
    const at = this.reserve(4)
    this.view.setUint32(at, v, true)
    return this
  }

  u64 (v: number | bigint): this {
    const b = toBigInt(v, 0n, U64_MAX, 'u64')
    const at = this.reserve(8)
    this.view.setBigUint64(at, b, true)
    return this
  }

  s16 (v: number): this {
    checkInt(v, -0x8000, 0x7fff, 's16')
    const at = this.reserve(2)
    this.view.setInt16(at, v, true)
    return this
  }

  s32 (v: number): this {
    checkInt(v, -0x80000000, 0x7fffffff, 's32')
    const at = this.reserve(4)
    this.view.setInt32(at, v, true)
    return this
  }

  s64 (v: number | bigint): this {
    const b = toBigInt(v, S64_MIN, S64_MAX, 's64')
    const at = this.reserve(8)
    this.view.setBigInt64(at, b, true)
    return this
  }

  /** bool is one byte, 0 or 1. */
  bool (v: boolean): this {
    return this.u8(v ? 1 : 0)
  }

  /** Raw bytes, no length prefix. */
  bytes (b: Uint8Array): this {
    const at = this.reserve(b.length)
    this.buf.set(b, at)
    return this
  }

  /** std::string: u32 byte length + UTF-8 bytes. */
  string (s: string): this {
    return this.bufferlist(utf8Encoder.encode(s))
  }

  /** bufferlist: u32 length + bytes. */
  bufferlist (b: Uint8Array): this {
    this.u32(b.length)
    return this.bytes(b)
  }

  /** u32 count, then each item written by `each` (vector, list, set, map). */
  array<T> (items: readonly T[], each: (enc: this, item: T) => void): this {
    this.u32(items.length)
    for (const item of items) each(this, item)
    return this
  }

  /** utime_t: u32 sec + u32 nsec. */
  utime (t: Utime): this {
    return this.u32(t.sec).u32(t.nsec)
  }

  /** uuid_d is written raw: its 16 bytes in text order. */
  uuid (uuid: string): this {
    return this.bytes(uuidToBytes(uuid))
  }

  /** ENCODE_START: version header plus a length that finish() fills in. */
  start (v: number, compat: number): this {
    this.u8(v).u8(compat)
    this.open.push(this.reserve(4))
    return this
  }

  /**
   * With a struct open (ENCODE_FINISH): patch its length and return its encoded bytes (a view,
   * valid as long as nothing rewrites them). With none open: return everything written, as a copy.
   */
  finish (): Uint8Array {
    const lenAt = this.open.pop()
    if (lenAt === undefined) return this.buf.slice(0, this.pos)
    this.view.setUint32(lenAt, this.pos - lenAt - 4, true)
    return this.buf.subarray(lenAt - 2, this.pos)
  }

  /** How many structs are still open (0 when the encoding is complete). */
  get depth (): number {
    return this.open.length
  }
}

/**
 * A bounds-checked little-endian reader. Every read past `end` throws ProtocolError(BAD_PAYLOAD)
 * with the offset (relative to the start of `buf`) where the read began.
 */
export class Decoder {
  readonly buf: Uint8Array
  pos: number
  readonly end: number
  private readonly view: DataView

  constructor (buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf
    this.pos = pos
    this.end = Math.min(end, buf.length)
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  get remaining (): number {
    return this.end - this.pos
  }

  /** True when every byte has been read. */
  get done (): boolean {
    return this.pos >= this.end
  }

  /** Throw BAD_PAYLOAD at the current offset. */
  fail (message: string, at = this.pos): never {
    throw new ProtocolError(ErrorCode.BAD_PAYLOAD, message, at)
  }

  /** Reserve n bytes and return their offset. */
  private take (n: number, what: string): number {
    const at = this.pos
    if (n > this.end - at) this.fail(`${what} needs ${n} bytes, ${this.end - at} left`)
    this.pos = at + n
    return at
  }

  u8 (): number {
    return this.buf[this.take(1, 'u8')]
  }

  u16 (): number {
    return this.view.getUint16(this.take(2, 'u16'), true)
  }

  u32 (): number {
    return this.view.getUint32(this.take(4, 'u32'), true)
  }

  u64 (): bigint {
    return this.view.getBigUint64(this.take(8, 'u64'), true)
  }

  /** A u64 as a number; values beyond 2^53 − 1 are rejected rather than rounded. */
  u64n (): number {
    const at = this.pos
    const v = this.u64()
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`u64 ${v} exceeds the safe integer range`, at)
    return Number(v)
  }

  s16 (): number {
    return this.view.getInt16(this.take(2, 's16'), true)
  }

  s32 (): number {
    return this.view.getInt32(this.take(4, 's32'), true)
  }

  s64 (): bigint {
    return this.view.getBigInt64(this.take(8, 's64'), true)
  }

  /** An s64 as a number; values outside ±(2^53 − 1) are rejected. */
  s64n (): number {
    const at = this.pos
    const v = this.s64()
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      this.fail(`s64 ${v} exceeds the safe integer range`, at)
    }
    return Number(v)
  }

  /** Ceph decodes bool from one byte; any non-zero value is true. */
  bool (): boolean {
    return this.u8() !== 0
  }

  /** n raw bytes, as a view into the buffer. */
  bytes (n: number): Uint8Array {
    const at = this.take(n, 'bytes')
    return this.buf.subarray(at, at + n)
  }

  /** bufferlist: u32 length + bytes (a view into the buffer). */
  bufferlist (max = DEFAULT_MAX_LENGTH): Uint8Array {
    const at = this.pos
    const n = this.u32()
    if (n > max) this.fail(`length ${n} exceeds the limit ${max}`, at)
    if (n > this.remaining) this.fail(`length ${n} but only ${this.remaining} bytes left`, at)
    return this.bytes(n)
  }

  /** std::string: u32 length + bytes, read as UTF-8. */
  string (max = DEFAULT_MAX_LENGTH): string {
    return utf8Decoder.decode(this.bufferlist(max))
  }

  /**
   * u32 count then `count` items. `minItemSize` (bytes each item needs at least) lets an absurd
   * count fail at once instead of after a long loop.
   */
  array<T> (each: (dec: this) => T, minItemSize = 1): T[] {
    const at = this.pos
    const n = this.u32()
    if (n * minItemSize > this.remaining) this.fail(`count ${n} cannot fit in ${this.remaining} bytes`, at)
    const out: T[] = []
    for (let i = 0; i < n; i++) out.push(each(this))
    return out
  }

  utime (): Utime {
    const sec = this.u32()
    return { sec, nsec: this.u32() }
  }

  uuid (): string {
    return uuidFromBytes(this.bytes(16))
  }

  /**
   * DECODE_START: read the version header and length. `supported` is the newest version this
   * decoder understands; an encoding whose compat version is newer cannot be read.
   */
  start (supported = 255, what = 'struct'): StructHeader {
    const at = this.pos
    const v = this.u8()
    const compat = this.u8()
    if (compat > supported) this.fail(`${what} v${v} needs a decoder of v${compat}, this one reads v${supported}`, at)
    const lenAt = this.pos
    const len = this.u32()
    if (len > this.remaining) this.fail(`${what} length ${len} but only ${this.remaining} bytes left`, lenAt)
    return { v, compat, end: this.pos + len }
  }

  /** DECODE_FINISH: skip whatever a newer encoder appended; overrunning the struct is an error. */
  skipTo (end: number): void {
    if (this.pos > end) this.fail(`read ${this.pos - end} bytes past the end of the struct`, end)
    if (end > this.end) this.fail(`struct end ${end} is past the buffer end ${this.end}`)
    this.pos = end
  }
}
