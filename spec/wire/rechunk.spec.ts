// However the socket slices the bytes, the decoder yields the same frames.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { clientBytes, concat, decodeChunks, serverBytes, splitAt } from './fixture.ts'
import { HEADER_LEN } from '../../lib/wire/constants.ts'
import { encodeMessage } from '../../lib/wire/encoder.ts'
import { FrameDecoder } from '../../lib/wire/decoder.ts'
import { ProtocolError } from '../../lib/wire/errors.ts'
import type { Frame } from '../../lib/wire/frame.ts'
import type { DriveOptions } from './fixture.ts'

const streams = [
  { name: 'client → mon', role: 'server', bytes: clientBytes },
  { name: 'mon → client', role: 'client', bytes: serverBytes }
] as const

const variants: Array<[string, DriveOptions]> = [
  ['payloads as views', {}],
  ['payloads copied (copyBelow)', { copyBelow: 4096 }],
  ['frames reused (reuseFrames)', { reuseFrames: true }]
]

for (const { name, role, bytes } of streams) {
  for (const [variant, opts] of variants) {
    describe(`rechunk ${name}, ${variant}`, () => {
      const whole = decodeChunks(role, [bytes], opts)

      it('the same frames as a fresh decode', () => {
        assert.deepEqual(whole, decodeChunks(role, [bytes]))
      })

      it('1-byte chunks', () => {
        const ones = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))
        assert.deepEqual(decodeChunks(role, ones, opts), whole)
      })

      it('every split point (two chunks)', () => {
        for (let p = 1; p < bytes.length; p++) {
          assert.deepEqual(decodeChunks(role, [bytes.subarray(0, p), bytes.subarray(p)], opts), whole, `split at ${p}`)
        }
      })

      it('random chunkings', () => {
        fc.assert(fc.property(fc.array(fc.nat(bytes.length), { maxLength: 40 }), (points) => {
          assert.deepEqual(decodeChunks(role, splitAt(bytes, points), opts), whole)
        }), { numRuns: 300 })
      })
    })
  }
}

// Payloads of 64 KiB and more that arrive in pieces are gathered into one buffer as the pieces
// come (so socket chunks are let go at once): the frames must be the same however they are cut.
describe('rechunk: large payloads gathered as they arrive', () => {
  const bytesOf = (n: number, seed: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff)
  const msgs = [
    { front: bytesOf(70_000, 1), middle: bytesOf(10, 2), data: bytesOf(200_000, 3) },
    { front: bytesOf(12, 4), middle: new Uint8Array(0), data: bytesOf(65_536, 5) },
    { front: bytesOf(65_536 + 7, 6), middle: new Uint8Array(0), data: new Uint8Array(0) },
    { front: bytesOf(64, 7), middle: new Uint8Array(0), data: bytesOf(100, 8) }
  ]
  const stream = concat(msgs.flatMap((m, i) => encodeMessage({
    header: { seq: i + 1, tid: 0, type: 0x7000, priority: 127, version: 1, dataOff: 0, src: { type: 4, num: 1 }, compatVersion: 0 },
    ...m
  }, true)))
  const opts = { phase: 'tags', msgAuth: true } as const
  const check = (frames: Frame[]): void => {
    assert.equal(frames.length, msgs.length)
    frames.forEach((f, i) => {
      assert.equal(f.kind, 'msg')
      if (f.kind !== 'msg') return
      assert.deepEqual([f.front, f.middle, f.data].map((b) => Buffer.from(b)), [msgs[i].front, msgs[i].middle, msgs[i].data].map((b) => Buffer.from(b)))
      assert.equal(f.dataCrcChecked, true)
    })
  }

  it('in one piece (views), in 64 KiB socket-sized chunks, and in random cuts', () => {
    check(decodeChunks('server', [stream], opts))
    const sockets: Uint8Array[] = []
    for (let o = 0; o < stream.length; o += 65_536) sockets.push(stream.slice(o, o + 65_536))
    check(decodeChunks('server', sockets, opts))
    fc.assert(fc.property(fc.array(fc.nat(stream.length), { maxLength: 30 }), (points) => {
      check(decodeChunks('server', splitAt(stream, points), opts))
    }), { numRuns: 60 })
  })

  it('a bad data crc in a gathered payload is still caught, at the data offset', () => {
    const bad = stream.slice()
    const dataAt = 1 + HEADER_LEN + 70_000 + 10
    bad[dataAt + 5000] ^= 1
    const chunks = splitAt(bad, [1000, 50_000, 120_000, 250_000])
    assert.throws(() => decodeChunks('server', chunks, opts), (e: unknown) =>
      e instanceof ProtocolError && e.code === 'BAD_DATA_CRC' && e.offset === dataAt)
  })

  it('a stream that ends inside a gathered payload is TRUNCATED', () => {
    assert.throws(() => decodeChunks('server', splitAt(stream.subarray(0, 150_000), [60_000, 100_000]), opts),
      (e: unknown) => e instanceof ProtocolError && e.code === 'TRUNCATED')
  })
})

describe('large payloads: what a header alone can make the decoder set aside', () => {
  it('nothing until an eighth of the payload is here, then the payload, and none after', () => {
    const data = new Uint8Array(8 * 1024 * 1024).map((_, i) => i & 0xff)
    const bytes = concat(encodeMessage({
      header: { seq: 1, tid: 0, type: 0x7000, priority: 127, version: 1, dataOff: 0, src: { type: 4, num: 1 }, compatVersion: 0 },
      front: new Uint8Array(0), middle: new Uint8Array(0), data
    }, true))
    const dec = new FrameDecoder({ role: 'server', phase: 'tags', msgAuth: true })
    const at = 1 + HEADER_LEN
    dec.push(bytes.subarray(0, at + 1024))
    assert.equal(dec.next(), undefined)
    assert.equal(dec.reserved, 0, 'a header and 1 KiB of an 8 MiB payload reserve nothing')
    const eighth = data.length / 8
    dec.push(bytes.subarray(at + 1024, at + eighth - 1))
    assert.equal(dec.next(), undefined)
    assert.equal(dec.reserved, 0, 'just under an eighth: still nothing')
    dec.push(bytes.subarray(at + eighth - 1, at + eighth + 65_536))
    assert.equal(dec.next(), undefined)
    assert.equal(dec.reserved, data.length, 'an eighth: gathering into one buffer')
    assert.equal(dec.buffered, 0, 'the chunks read so far were copied out and let go')
    dec.push(bytes.subarray(at + eighth + 65_536))
    const f = dec.next()
    assert.equal(f?.kind, 'msg')
    if (f?.kind === 'msg') assert.deepEqual(Buffer.from(f.data), Buffer.from(data))
    assert.equal(dec.reserved, 0)
  })
})
