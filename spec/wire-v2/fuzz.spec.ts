// Hostile input: random bytes, and the captures with random bytes changed. Whatever arrives, the
// decoder yields frames, waits, or throws a V2Error with a known code; it never throws anything
// else, never loops, and never delivers a segment beyond its limits.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Tag, isKnownTag } from '../../lib/wire-v2/constants.ts'
import { V2FrameDecoder } from '../../lib/wire-v2/decoder.ts'
import { V2Error, V2ErrorCode } from '../../lib/wire-v2/errors.ts'
import { decodeControl, decodeControlFrame } from '../../lib/wire-v2/frames.ts'
import { decodeMessageFrame } from '../../lib/wire-v2/message.ts'
import { decodeAddrvec } from '../../lib/wire-v2/addr.ts'
import { secureCiphers } from '../../lib/wire-v2/gcm.ts'
import type { V2Limits } from '../../lib/wire-v2/limits.ts'
import { captures, splitAt, SWITCH_AFTER } from './fixture.ts'
import type { Capture, Dir } from './fixture.ts'

const CODES = new Set<string>(Object.values(V2ErrorCode))
const LIMITS: Partial<V2Limits> = { maxControlLen: 4096, maxFrontLen: 8192, maxMiddleLen: 4096, maxDataLen: 4096, maxFrameLen: 16384 }

function assertV2Error (e: unknown): void {
  if (!(e instanceof V2Error)) throw new assert.AssertionError({ message: `not a V2Error: ${String(e)}`, actual: e })
  assert.ok(CODES.has(e.code))
  assert.ok(Number.isFinite(e.offset) && e.offset >= 0)
}

/**
 * Drive a decoder over `input` cut at `points` (switching to secure mode as the capture did)
 * and decode every payload; only V2Errors may come out. Returns the number of frames.
 */
function drive (input: Uint8Array, points: number[], c?: Capture, d?: Dir): number {
  const dec = new V2FrameDecoder({ limits: LIMITS })
  let frames = 0
  let banner = false
  // Each frame consumes at least 36 bytes; each chunk ends in at most one wait.
  const chunks = splitAt(input, points)
  let budget = input.length + chunks.length + 2
  try {
    for (const chunk of chunks) {
      dec.push(chunk)
      if (!banner) banner = dec.readBanner() !== undefined
      if (!banner) continue
      while (true) {
        assert.ok(--budget > 0, 'decoder made no progress')
        let f
        try {
          f = dec.next()
        } catch (e) {
          if (e instanceof V2Error && e.code === V2ErrorCode.FRAME_ABORTED) continue
          throw e
        }
        if (f === undefined) break
        frames++
        assert.ok(isKnownTag(f.tag))
        assert.ok(f.segments[0].length <= 4096 && f.segments[1].length <= 8192 && f.segments[2].length <= 4096 && f.segments[3].length <= 4096)
        try {
          if (f.tag === Tag.MESSAGE) decodeMessageFrame(f)
          else decodeControlFrame(f)
        } catch (e) {
          assertV2Error(e)
        }
        if (c?.secret !== undefined && d !== undefined && f.tag === SWITCH_AFTER[d] && dec.mode === 'crc') {
          dec.enableSecure(secureCiphers(c.secret, d === 'c2s' ? 'server' : 'client').rx)
        }
      }
    }
    dec.end()
  } catch (e) {
    assertV2Error(e)
  }
  return frames
}

describe('fuzz: the frame decoder', () => {
  it('random bytes, after a valid banner or not', () => {
    const banner = captures[0].bytes.c2s.subarray(0, 26)
    fc.assert(fc.property(fc.boolean(), fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(600), { maxLength: 8 }), (withBanner, junk, points) => {
      const input = withBanner ? Uint8Array.from([...banner, ...junk]) : junk
      drive(input, points)
    }), { numRuns: 500 })
  })

  for (const c of captures.filter((x) => x.conn === 0)) {
    for (const d of ['c2s', 's2c'] as const) {
      it(`${c.scenario} ${d}: mutated bytes`, () => {
        const bytes = c.bytes[d]
        const mutation = fc.array(fc.record({ at: fc.nat(bytes.length - 1), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 })
        fc.assert(fc.property(mutation, fc.array(fc.nat(bytes.length), { maxLength: 6 }), (muts, points) => {
          const bad = bytes.slice()
          for (const m of muts) bad[m.at] ^= m.xor
          drive(bad, points, c, d)
        }), { numRuns: 150 })
      })
    }
  }
})

describe('fuzz: payload decoders', () => {
  it('random segment 0 for every tag: a payload or a V2Error', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 25 }), fc.uint8Array({ maxLength: 200 }), (tag, seg0) => {
      try {
        decodeControl(tag, seg0)
      } catch (e) {
        assertV2Error(e)
      }
      try {
        decodeAddrvec(seg0)
      } catch (e) {
        assertV2Error(e)
      }
    }), { numRuns: 2000 })
  })

  it('the captured control payloads with bytes changed or cut', () => {
    const segs: Array<[number, Uint8Array]> = []
    for (const c of captures) {
      for (const d of ['c2s', 's2c'] as const) {
        const dec = new V2FrameDecoder()
        dec.push(c.bytes[d])
        dec.readBanner()
        for (let f = dec.next(); f !== undefined && dec.mode === 'crc'; f = dec.next()) {
          if (f.tag !== Tag.MESSAGE) segs.push([f.tag, f.segments[0]])
          if (f.tag === SWITCH_AFTER[d]) break
        }
      }
    }
    fc.assert(fc.property(fc.nat(segs.length - 1), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat(), (k, at, xor, cut) => {
      const [tag, seg] = segs[k]
      const bad = seg.slice(0, seg.length - (cut % 3 === 0 ? cut % (seg.length + 1) : 0))
      if (bad.length > 0) bad[at % bad.length] ^= xor
      try {
        decodeControl(tag, bad)
      } catch (e) {
        assertV2Error(e)
      }
    }), { numRuns: 2000 })
  })
})
