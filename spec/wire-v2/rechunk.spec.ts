// However the socket slices the bytes, the decoder yields the same banner and frames, and the
// switch to secure mode lands on the same frame boundary even when the bytes after it arrived
// in the same chunk as the last plaintext frame.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Tag } from '../../lib/wire-v2/constants.ts'
import { V2FrameDecoder } from '../../lib/wire-v2/decoder.ts'
import { V2FrameEncoder } from '../../lib/wire-v2/encoder.ts'
import { encodeControl } from '../../lib/wire-v2/frames.ts'
import type { Frame } from '../../lib/wire-v2/frame.ts'
import { captureName, captures, concat, decodeDirection, splitAt } from './fixture.ts'
import type { Decoded } from './fixture.ts'

/** What a decode produced, in comparable form (segment bytes as plain arrays). */
function summary (r: Decoded): unknown {
  return {
    banner: [r.banner.supported, r.banner.required, Array.from(r.banner.raw)],
    frames: r.frames.map((f, i) => ({
      tag: f.tag,
      offset: f.offset,
      mode: r.modes[i],
      segments: f.segments.map((s) => Buffer.from(s).toString('hex')),
      raw: Buffer.from(f.raw).toString('hex')
    }))
  }
}

for (const c of captures) {
  for (const d of ['c2s', 's2c'] as const) {
    describe(`rechunk ${captureName(c, d)}`, () => {
      const bytes = c.bytes[d]
      const whole = summary(decodeDirection(c, d, [bytes]))

      it('1-byte chunks', () => {
        const ones = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))
        assert.deepEqual(summary(decodeDirection(c, d, ones)), whole)
      })

      it('random chunkings', () => {
        fc.assert(fc.property(fc.array(fc.nat(bytes.length), { maxLength: 40 }), (points) => {
          assert.deepEqual(summary(decodeDirection(c, d, splitAt(bytes, points))), whole)
        }), { numRuns: 100 })
      })
    })
  }
}

describe('rechunk: every split point', () => {
  // Every two-chunk cut of a whole crc capture and of the secure one (through the mode switch).
  const picked = captures.filter((c) => c.scenario.startsWith('1-') || c.secret !== undefined)
  assert.equal(picked.length, 2)
  for (const c of picked) {
    for (const d of ['c2s', 's2c'] as const) {
      it(`${captureName(c, d)}`, () => {
        const bytes = c.bytes[d]
        const whole = summary(decodeDirection(c, d, [bytes]))
        for (let p = 1; p < bytes.length; p++) {
          assert.deepEqual(summary(decodeDirection(c, d, [bytes.subarray(0, p), bytes.subarray(p)])), whole, `split at ${p}`)
        }
      })
    }
  }

  it('a small frame (KEEPALIVE2, 44 bytes) at every split point, and in three pieces', () => {
    const enc = new V2FrameEncoder()
    const bytes = concat(enc.encode(Tag.KEEPALIVE2, [encodeControl({ tag: Tag.KEEPALIVE2, stamp: { sec: 1, nsec: 2 } })]))
    assert.equal(bytes.length, 44)
    const read = (chunks: Uint8Array[]): Frame[] => {
      const dec = new V2FrameDecoder({ banner: false })
      const out: Frame[] = []
      for (const ch of chunks) {
        dec.push(ch)
        for (let f = dec.next(); f !== undefined; f = dec.next()) out.push(f)
      }
      dec.end()
      return out
    }
    for (let p = 0; p <= bytes.length; p++) {
      for (let q = p; q <= bytes.length; q++) {
        const frames = read([bytes.subarray(0, p), bytes.subarray(p, q), bytes.subarray(q)])
        assert.equal(frames.length, 1)
        assert.deepEqual(Array.from(frames[0].raw), Array.from(bytes))
      }
    }
  })
})
