import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Decoder, Encoder, compareStrings, uuidFromBytes, uuidToBytes } from '../../lib/messages/denc.ts'
import { expectBadPayload, succeedsOrBadPayload } from './arbitraries.ts'

/** One primitive write and its expected read back. */
type Op =
  | { k: 'u8' | 'u16' | 'u32' | 's16' | 's32', v: number }
  | { k: 'u64' | 's64', v: bigint, asNumber: boolean }
  | { k: 'bool', v: boolean }
  | { k: 'bytes' | 'bufferlist', v: Uint8Array }
  | { k: 'string', v: string }
  | { k: 'utime', v: { sec: number, nsec: number } }
  | { k: 'uuid', v: string }
  | { k: 'array', v: number[] }

const u32 = fc.integer({ min: 0, max: 0xffffffff })
const text = fc.string({ unit: 'binary', maxLength: 40 })
const bytes = fc.uint8Array({ maxLength: 40 })
// The decoder prints lower-case text.
const uuid = fc.uuid().map((s) => s.toLowerCase())

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.integer({ min: 0, max: 0xff }).map((v): Op => ({ k: 'u8', v })),
  fc.integer({ min: 0, max: 0xffff }).map((v): Op => ({ k: 'u16', v })),
  u32.map((v): Op => ({ k: 'u32', v })),
  fc.integer({ min: -0x8000, max: 0x7fff }).map((v): Op => ({ k: 's16', v })),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((v): Op => ({ k: 's32', v })),
  fc.tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.boolean())
    .map(([v, asNumber]): Op => ({ k: 'u64', v: asNumber ? v & ((1n << 53n) - 1n) : v, asNumber })),
  fc.tuple(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), fc.boolean())
    .map(([v, asNumber]): Op => ({ k: 's64', v: asNumber ? BigInt.asIntN(53, v) : v, asNumber })),
  fc.boolean().map((v): Op => ({ k: 'bool', v })),
  bytes.map((v): Op => ({ k: 'bytes', v })),
  bytes.map((v): Op => ({ k: 'bufferlist', v })),
  text.map((v): Op => ({ k: 'string', v })),
  fc.record({ sec: u32, nsec: u32 }).map((v): Op => ({ k: 'utime', v: { ...v } })),
  uuid.map((v): Op => ({ k: 'uuid', v })),
  fc.array(u32, { maxLength: 8 }).map((v): Op => ({ k: 'array', v }))
)

function write (enc: Encoder, o: Op): void {
  switch (o.k) {
    case 'u8': enc.u8(o.v); break
    case 'u16': enc.u16(o.v); break
    case 'u32': enc.u32(o.v); break
    case 's16': enc.s16(o.v); break
    case 's32': enc.s32(o.v); break
    case 'u64': enc.u64(o.asNumber ? Number(o.v) : o.v); break
    case 's64': enc.s64(o.asNumber ? Number(o.v) : o.v); break
    case 'bool': enc.bool(o.v); break
    case 'bytes': enc.bytes(o.v); break
    case 'bufferlist': enc.bufferlist(o.v); break
    case 'string': enc.string(o.v); break
    case 'utime': enc.utime(o.v); break
    case 'uuid': enc.uuid(o.v); break
    case 'array': enc.array(o.v, (e, x) => e.u32(x)); break
  }
}

/** Read what `o` wrote and return it in the shape `o.v` has. */
function read (dec: Decoder, o: Op): unknown {
  switch (o.k) {
    case 'u8': return dec.u8()
    case 'u16': return dec.u16()
    case 'u32': return dec.u32()
    case 's16': return dec.s16()
    case 's32': return dec.s32()
    case 'u64': return o.asNumber ? BigInt(dec.u64n()) : dec.u64()
    case 's64': return o.asNumber ? BigInt(dec.s64n()) : dec.s64()
    case 'bool': return dec.bool()
    case 'bytes': return dec.bytes(o.v.length)
    case 'bufferlist': return dec.bufferlist()
    case 'string': return dec.string()
    case 'utime': return dec.utime()
    case 'uuid': return dec.uuid()
    case 'array': return dec.array((d) => d.u32(), 4)
  }
}

function encodeOps (ops: Op[]): Uint8Array {
  const enc = new Encoder(1)
  for (const o of ops) write(enc, o)
  return enc.finish()
}

describe('denc primitives', () => {
  it('every primitive round-trips on its own', () => {
    fc.assert(fc.property(op, (o) => {
      const b = encodeOps([o])
      const dec = new Decoder(b)
      const got = read(dec, o)
      assert.deepEqual(got instanceof Uint8Array ? new Uint8Array(got) : got, o.v)
      assert.ok(dec.done)
    }), { numRuns: 2000 })
  })

  it('sequences of primitives round-trip and consume every byte', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const b = encodeOps(ops)
      const dec = new Decoder(b)
      for (const o of ops) {
        const got = read(dec, o)
        assert.deepEqual(got instanceof Uint8Array ? new Uint8Array(got) : got, o.v)
      }
      assert.equal(dec.pos, b.length)
    }), { numRuns: 500 })
  })

  it('little-endian layout matches hand-written bytes', () => {
    const b = new Encoder()
      .u8(0x01).u16(0x0302).u32(0x07060504).u64(0x0f0e0d0c0b0a0908n).s16(-1).s32(-2).s64(-3)
      .string('ab').bufferlist(Uint8Array.of(9)).utime({ sec: 1, nsec: 2 })
      .finish()
    assert.deepEqual([...b], [
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
      0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      2, 0, 0, 0, 0x61, 0x62, 1, 0, 0, 0, 9, 1, 0, 0, 0, 2, 0, 0, 0
    ])
  })

  it('every truncation of an encoding throws BAD_PAYLOAD and nothing else', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 12 }), fc.nat(), (ops, cutSeed) => {
      const b = encodeOps(ops)
      fc.pre(b.length > 0)
      const cut = cutSeed % b.length
      const dec = new Decoder(b.subarray(0, cut))
      expectBadPayload(() => { for (const o of ops) read(dec, o) })
    }), { numRuns: 1000 })
  })

  it('random bytes under a random read program only ever give BAD_PAYLOAD', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(op, { maxLength: 12 }), (b, ops) => {
      succeedsOrBadPayload(() => {
        const dec = new Decoder(b)
        for (const o of ops) read(dec, o)
      })
    }), { numRuns: 1000 })
  })

  it('reports the offset where the failing read began', () => {
    const dec = new Decoder(Uint8Array.of(1, 2, 3, 4, 5, 6))
    dec.u32()
    expectBadPayload(() => dec.u32(), 4)
    expectBadPayload(() => new Decoder(Uint8Array.of(5, 0, 0, 0, 1)).string(), 0)
  })

  it('u64n / s64n refuse values a number cannot hold exactly', () => {
    const big = new Encoder().u64(1n << 53n).s64(-(1n << 53n)).finish()
    const dec = new Decoder(big)
    expectBadPayload(() => dec.u64n(), 0)
    expectBadPayload(() => dec.s64n(), 8)
    const ok = new Encoder().u64(Number.MAX_SAFE_INTEGER).s64(Number.MIN_SAFE_INTEGER).finish()
    const d2 = new Decoder(ok)
    assert.equal(d2.u64n(), Number.MAX_SAFE_INTEGER)
    assert.equal(d2.s64n(), Number.MIN_SAFE_INTEGER)
  })

  it('string and bufferlist honour a maximum length', () => {
    const b = new Encoder().string('hello').finish()
    expectBadPayload(() => new Decoder(b).string(4), 0)
    assert.equal(new Decoder(b).string(5), 'hello')
  })

  it('an impossible element count fails at once', () => {
    const b = new Encoder().u32(0xffffffff).u32(1).finish()
    expectBadPayload(() => new Decoder(b).array((d) => d.u32(), 4), 0)
  })

  it('bool reads any non-zero byte as true', () => {
    assert.equal(new Decoder(Uint8Array.of(7)).bool(), true)
    assert.equal(new Decoder(Uint8Array.of(0)).bool(), false)
  })

  it('the encoder refuses values out of range', () => {
    const enc = new Encoder()
    assert.throws(() => enc.u8(256), RangeError)
    assert.throws(() => enc.u16(-1), RangeError)
    assert.throws(() => enc.u32(2 ** 32), RangeError)
    assert.throws(() => enc.u32(1.5), RangeError)
    assert.throws(() => enc.s16(0x8000), RangeError)
    assert.throws(() => enc.s32(-0x80000001), RangeError)
    assert.throws(() => enc.u64(-1), RangeError)
    assert.throws(() => enc.u64(1n << 64n), RangeError)
    assert.throws(() => enc.u64(2 ** 60), RangeError)
    assert.throws(() => enc.s64(1n << 63n), RangeError)
    assert.throws(() => enc.uuid('not-a-uuid'), TypeError)
    assert.equal(enc.length, 0)
  })

  it('grows from a tiny initial capacity', () => {
    const big = new Uint8Array(10_000).map((_, i) => i & 0xff)
    const b = new Encoder(1).u8(1).bytes(big).u8(2).finish()
    assert.equal(b.length, 10_002)
    assert.deepEqual(b.subarray(1, 10_001), big)
    assert.equal(b[10_001], 2)
  })
})

describe('denc uuid', () => {
  it('is written raw, in text order', () => {
    const b = new Encoder().uuid('630ba7ee-1a25-4a3e-bdad-adcf5cab63bf').finish()
    assert.equal(Buffer.from(b).toString('hex'), '630ba7ee1a254a3ebdadadcf5cab63bf')
    assert.equal(uuidFromBytes(b), '630ba7ee-1a25-4a3e-bdad-adcf5cab63bf')
  })

  it('accepts upper case and undashed text', () => {
    assert.deepEqual(uuidToBytes('630BA7EE1A254A3EBDADADCF5CAB63BF'), uuidToBytes('630ba7ee-1a25-4a3e-bdad-adcf5cab63bf'))
  })

  it('round-trips any 16 bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      assert.deepEqual(uuidToBytes(uuidFromBytes(b)), b)
    }))
  })
})

describe('denc versioned structs', () => {
  it('start/finish writes v, compat and the body length, nested', () => {
    const enc = new Encoder()
    enc.start(9, 6).u32(1)
    enc.start(1, 1).u64(0xffn)
    const inner = enc.finish()
    enc.u8(7)
    enc.finish()
    assert.equal(enc.depth, 0)
    const b = enc.finish()
    assert.deepEqual([...inner], [1, 1, 8, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0])
    assert.deepEqual([...b.subarray(0, 6)], [9, 6, 4 + 14 + 1, 0, 0, 0])
    const dec = new Decoder(b)
    const outer = dec.start(9)
    assert.deepEqual(outer, { v: 9, compat: 6, end: b.length })
    assert.equal(dec.u32(), 1)
    const s = dec.start(1)
    assert.equal(dec.u64(), 0xffn)
    dec.skipTo(s.end)
    assert.equal(dec.u8(), 7)
    dec.skipTo(outer.end)
    assert.ok(dec.done)
  })

  it('nested structs round-trip for random shapes', () => {
    const shape: fc.Arbitrary<{ v: number, compat: number, body: Op[], inner: Array<{ v: number, body: Op[] }> }> = fc.record({
      v: fc.integer({ min: 1, max: 255 }),
      compat: fc.integer({ min: 1, max: 255 }),
      body: fc.array(op, { maxLength: 4 }),
      inner: fc.array(fc.record({ v: fc.integer({ min: 1, max: 255 }), body: fc.array(op, { maxLength: 4 }) }), { maxLength: 3 })
    })
    fc.assert(fc.property(shape, (s) => {
      const enc = new Encoder(2)
      enc.start(s.v, s.compat)
      for (const o of s.body) write(enc, o)
      for (const i of s.inner) {
        enc.start(i.v, 1)
        for (const o of i.body) write(enc, o)
        enc.finish()
      }
      enc.finish()
      const b = enc.finish()
      const dec = new Decoder(b)
      const h = dec.start(255)
      assert.equal(h.v, s.v)
      assert.equal(h.compat, s.compat)
      for (const o of s.body) read(dec, o)
      for (const i of s.inner) {
        const ih = dec.start(255)
        assert.equal(ih.v, i.v)
        for (const o of i.body) read(dec, o)
        assert.equal(dec.pos, ih.end)
        dec.skipTo(ih.end)
      }
      assert.equal(dec.pos, h.end)
      assert.equal(h.end, b.length)
    }), { numRuns: 300 })
  })

  it('skipTo passes over fields a newer encoder added', () => {
    const b = new Encoder().start(2, 1).u32(5).string('future field').finish()
    const dec = new Decoder(new Encoder().bytes(b).u8(42).finish())
    const h = dec.start(1)
    assert.equal(dec.u32(), 5)
    dec.skipTo(h.end)
    assert.equal(dec.u8(), 42)
  })

  it('refuses a struct whose compat version is newer than the decoder', () => {
    const b = new Encoder().start(4, 3).u32(0).finish()
    expectBadPayload(() => new Decoder(b).start(2), 0)
    assert.equal(new Decoder(b).start(3).compat, 3)
  })

  it('refuses a struct length beyond the buffer', () => {
    const b = new Encoder().u8(1).u8(1).u32(10).u32(0).finish()
    expectBadPayload(() => new Decoder(b).start(1), 2)
  })

  it('refuses reading past the end of a struct', () => {
    const b = new Encoder().start(1, 1).u8(1).finish()
    const withTail = new Encoder().bytes(b).u32(0).finish()
    const dec = new Decoder(withTail)
    const h = dec.start(1)
    dec.u32() // reads beyond the 1-byte body into the tail
    expectBadPayload(() => dec.skipTo(h.end))
  })

  it('a decoder bounded by an end offset cannot read past it', () => {
    const dec = new Decoder(Uint8Array.of(1, 2, 3, 4, 5), 1, 3)
    assert.equal(dec.u16(), 0x0302)
    expectBadPayload(() => dec.u8(), 3)
  })
})

describe('compareStrings', () => {
  it('orders by UTF-8 bytes like std::string', () => {
    // UTF-16 code units would put the surrogate pair of U+1F600 first; UTF-8 bytes (EE.. < F0..) do not.
    assert.ok(compareStrings('\u{e000}', '\u{1f600}') < 0)
    assert.ok(compareStrings('a', 'b') < 0)
    assert.ok(compareStrings('B', 'a') < 0)
    assert.equal(compareStrings('x', 'x'), 0)
  })
})

it('a string starting with U+FEFF round-trips (it is data, not a byte-order mark)', () => {
  const e = new Encoder()
  e.string('\uFEFF')
  e.string('\uFEFFa')
  const d = new Decoder(e.finish())
  assert.equal(d.string(), '\uFEFF')
  assert.equal(d.string(), '\uFEFFa')
})
