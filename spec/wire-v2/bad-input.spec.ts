// Malformed and hostile input: each is refused with its own V2Error code, at the right offset,
// before anything is delivered (or, for lengths, before anything is waited for or allocated).
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { crc32c } from '../../lib/wire/crc32c.ts'
import { BANNER_LEN, LateStatus, Msgr2Feature, PREAMBLE_LEN, Tag } from '../../lib/wire-v2/constants.ts'
import { encodeFrameCrc } from '../../lib/wire-v2/codec-crc.ts'
import { encodeFrameSecure } from '../../lib/wire-v2/codec-secure.ts'
import { V2FrameDecoder } from '../../lib/wire-v2/decoder.ts'
import { V2Error, V2ErrorCode } from '../../lib/wire-v2/errors.ts'
import type { V2ErrorCodeValue } from '../../lib/wire-v2/errors.ts'
import { decodeBanner, encodeBanner, negotiateBanner } from '../../lib/wire-v2/banner.ts'
import { decodeControl, decodeControlFrame } from '../../lib/wire-v2/frames.ts'
import { secureCiphers } from '../../lib/wire-v2/gcm.ts'
import type { Frame } from '../../lib/wire-v2/frame.ts'
import { captures, concat, decodeDirection, SCENARIO4_SECRET } from './fixture.ts'

function isCode (code: V2ErrorCodeValue, offset?: number): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof V2Error, `not a V2Error: ${String(e)}`)
    assert.equal(e.code, code, e.message)
    if (offset !== undefined) assert.equal(e.offset, offset, e.message)
    return true
  }
}

/** Decode a frames-only stream in one chunk. */
function frames (bytes: Uint8Array, end = true): Frame[] {
  const dec = new V2FrameDecoder({ banner: false })
  dec.push(bytes)
  const out: Frame[] = []
  for (let f = dec.next(); f !== undefined; f = dec.next()) out.push(f)
  if (end) dec.end()
  return out
}

/** A preamble with the given fields and a correct crc. */
function preamble (tag: number, n: number, lens: number[]): Uint8Array {
  const p = new Uint8Array(PREAMBLE_LEN)
  const dv = new DataView(p.buffer)
  p[0] = tag
  p[1] = n
  lens.forEach((l, i) => { dv.setUint32(2 + 6 * i, l, true); dv.setUint16(6 + 6 * i, i === 3 ? 4096 : 8, true) })
  dv.setUint32(28, crc32c(p.subarray(0, 28)), true)
  return p
}

const crc1 = captures.find((c) => c.scenario.startsWith('1-'))
const sec = captures.find((c) => c.secret !== undefined)
assert.ok(crc1 !== undefined && sec !== undefined)

describe('bad input: banner', () => {
  it('a v1 banner is recognised as such, as soon as "ceph v0" has arrived', () => {
    const dec = new V2FrameDecoder()
    dec.push(new TextEncoder().encode('ceph v0'))
    assert.throws(() => dec.readBanner(), isCode(V2ErrorCode.V1_PEER, 6))
    assert.throws(() => decodeBanner(new TextEncoder().encode('ceph v027')), isCode(V2ErrorCode.V1_PEER, 6))
  })

  it('garbage is refused at its first wrong byte; a short payload_len too', () => {
    const dec = new V2FrameDecoder()
    dec.push(new TextEncoder().encode('GET / HTTP/1.1\r\n'))
    assert.throws(() => dec.readBanner(), isCode(V2ErrorCode.BAD_BANNER, 0))
    const b = encodeBanner()
    b[8] = 8
    assert.throws(() => decodeBanner(b), isCode(V2ErrorCode.BAD_BANNER, 8))
  })

  it('negotiation: a required feature we lack, or one the peer lacks, ends it; rev1 iff offered', () => {
    assert.throws(() => negotiateBanner({ supported: 3n, required: Msgr2Feature.COMPRESSION }), isCode(V2ErrorCode.FEATURES_MISMATCH))
    assert.throws(() => negotiateBanner({ supported: 0n, required: 0n }, { supported: 1n, required: 1n }), isCode(V2ErrorCode.FEATURES_MISMATCH))
    assert.equal(negotiateBanner({ supported: 0n, required: 0n }).rev1, false)
    assert.equal(negotiateBanner({ supported: 3n, required: 1n }).rev1, true)
  })

  it('a banner cut short is TRUNCATED at end of stream', () => {
    const dec = new V2FrameDecoder()
    dec.push(encodeBanner().subarray(0, BANNER_LEN - 1))
    assert.equal(dec.readBanner(), undefined)
    assert.throws(() => dec.end(), isCode(V2ErrorCode.TRUNCATED))
  })
})

describe('bad input: crc mode', () => {
  const stream = crc1.bytes.c2s
  const at = 26 // HELLO, the first frame

  it('a bad preamble crc', () => {
    const bad = stream.slice()
    bad[at + 5] ^= 0x10
    assert.throws(() => decodeDirection(crc1, 'c2s', [bad]), isCode(V2ErrorCode.BAD_PREAMBLE_CRC, at + 28))
  })

  it('a bad segment 0 crc, and a bad front crc in the epilogue', () => {
    const bad = stream.slice()
    bad[at + PREAMBLE_LEN + 3] ^= 1
    assert.throws(() => decodeDirection(crc1, 'c2s', [bad]), isCode(V2ErrorCode.BAD_SEGMENT_CRC, at + PREAMBLE_LEN + 36))
    const s2c = crc1.bytes.s2c.slice()
    const monmap = 377 // MESSAGE [41, 205]
    s2c[monmap + PREAMBLE_LEN + 41 + 4 + 100] ^= 0x80
    assert.throws(() => decodeDirection(crc1, 's2c', [s2c]), isCode(V2ErrorCode.BAD_SEGMENT_CRC, monmap + PREAMBLE_LEN + 41 + 4 + 205 + 1))
  })

  it('an absurd length (2 GiB) is refused from the preamble alone', () => {
    for (const [n, lens] of [[1, [0x80000000]], [4, [41, 0, 0, 0x80000000]], [2, [41, 0xffffffff]]] as const) {
      const dec = new V2FrameDecoder({ banner: false })
      dec.push(preamble(Tag.MESSAGE, n, [...lens]))
      assert.throws(() => dec.next(), isCode(V2ErrorCode.TOO_LARGE))
      assert.equal(dec.buffered, PREAMBLE_LEN, 'nothing consumed, nothing waited for')
    }
    // The limits are the decoder's.
    const dec = new V2FrameDecoder({ banner: false, limits: { maxFrontLen: 100 } })
    dec.push(preamble(Tag.MESSAGE, 2, [41, 101]))
    assert.throws(() => dec.next(), isCode(V2ErrorCode.TOO_LARGE, 8))
  })

  it('num_segments 0 and 5', () => {
    assert.throws(() => frames(preamble(Tag.HELLO, 0, [4])), isCode(V2ErrorCode.BAD_SEGMENT_COUNT, 1))
    assert.throws(() => frames(preamble(Tag.MESSAGE, 5, [41, 1, 1, 1])), isCode(V2ErrorCode.BAD_SEGMENT_COUNT, 1))
  })

  it('unknown tags (0, the Quincy compression tags 21 and 22, 255)', () => {
    for (const tag of [0, 21, 22, 255]) assert.throws(() => frames(preamble(tag, 1, [8])), isCode(V2ErrorCode.UNKNOWN_TAG, 0))
  })

  it('an empty control segment and an empty last segment are refused; WAIT (one empty segment) is not', () => {
    assert.throws(() => frames(preamble(Tag.KEEPALIVE2, 1, [0])), isCode(V2ErrorCode.BAD_SEGMENT_LEN))
    assert.throws(() => frames(preamble(Tag.MESSAGE, 2, [41, 0])), isCode(V2ErrorCode.BAD_SEGMENT_LEN, 8))
    assert.throws(() => frames(preamble(Tag.MESSAGE, 4, [41, 5, 5, 0])), isCode(V2ErrorCode.BAD_SEGMENT_LEN, 20))
    const wait = concat(encodeFrameCrc(Tag.WAIT, [new Uint8Array(0)]))
    assert.equal(wait.length, 36)
    const [f] = frames(wait)
    assert.equal(f.tag, Tag.WAIT)
    assert.deepEqual(decodeControlFrame(f), { tag: Tag.WAIT })
  })

  it('an aborted frame is reported as such, consumed, and the next frame reads on', () => {
    const header = new Uint8Array(41)
    const aborted = concat(encodeFrameCrc(Tag.MESSAGE, [header, new Uint8Array([1, 2, 3])], LateStatus.ABORTED))
    const ok = concat(encodeFrameCrc(Tag.ACK, [new Uint8Array(8)]))
    const dec = new V2FrameDecoder({ banner: false })
    dec.push(concat([aborted, ok]))
    assert.throws(() => dec.next(), isCode(V2ErrorCode.FRAME_ABORTED, aborted.length - 13))
    assert.equal(dec.next()?.tag, Tag.ACK)
    dec.end()
  })

  it('any other late_status is fatal, and the decoder stays failed', () => {
    const bad = concat(encodeFrameCrc(Tag.MESSAGE, [new Uint8Array(41), new Uint8Array([1])], 0x00))
    const dec = new V2FrameDecoder({ banner: false })
    dec.push(bad)
    assert.throws(() => dec.next(), isCode(V2ErrorCode.BAD_LATE_STATUS))
    assert.throws(() => dec.next(), isCode(V2ErrorCode.BAD_LATE_STATUS))
  })

  it('a stream cut inside a frame is TRUNCATED, wherever the cut', () => {
    for (const cut of [27, 26 + 31, 26 + 32, 26 + 71, 100, stream.length - 1]) {
      assert.throws(() => decodeDirection(crc1, 'c2s', [stream.subarray(0, cut)]), isCode(V2ErrorCode.TRUNCATED), `cut at ${cut}`)
    }
  })

  it('a control frame with more than one segment, a payload cut short', () => {
    const two = frames(concat(encodeFrameCrc(Tag.ACK, [new Uint8Array(8), new Uint8Array(1)])))[0]
    assert.throws(() => decodeControlFrame(two), isCode(V2ErrorCode.BAD_PAYLOAD))
    assert.throws(() => decodeControl(Tag.ACK, new Uint8Array(7)), isCode(V2ErrorCode.BAD_PAYLOAD, 0))
    assert.throws(() => decodeControl(Tag.AUTH_SIGNATURE, new Uint8Array(31)), isCode(V2ErrorCode.BAD_PAYLOAD))
  })
})

describe('bad input: secure mode', () => {
  it('a flipped bit in any byte of any secure frame is DECRYPT_FAILED, never a delivered frame', () => {
    for (const d of ['c2s', 's2c'] as const) {
      const good = decodeDirection(sec, d, [sec.bytes[d]])
      const firstSecure = good.modes.indexOf('secure')
      const start = good.frames[firstSecure].offset
      const bytes = sec.bytes[d]
      for (let i = start; i < bytes.length; i++) {
        const bad = bytes.slice()
        bad[i] ^= 1 << (i % 8)
        const k = good.frames.findIndex((f) => f.offset <= i && i < f.offset + f.raw.length)
        const delivered: Frame[] = []
        assert.throws(() => {
          const dec = new V2FrameDecoder()
          dec.push(bad)
          dec.readBanner()
          for (let f = dec.next(); f !== undefined; f = dec.next()) {
            delivered.push(f)
            if (f.tag === (d === 'c2s' ? Tag.AUTH_REQUEST_MORE : Tag.AUTH_DONE)) {
              dec.enableSecure(secureCiphers(SCENARIO4_SECRET, d === 'c2s' ? 'server' : 'client').rx)
            }
          }
        }, isCode(V2ErrorCode.DECRYPT_FAILED), `byte ${i}`)
        assert.equal(delivered.length, k, `byte ${i}: only the frames before it`)
      }
    }
  })

  it('the wrong key or the wrong nonce direction fails the same way', () => {
    const frame = concat(encodeFrameSecure(secureCiphers(SCENARIO4_SECRET, 'client').tx, Tag.ACK, [new Uint8Array(8)]))
    for (const rx of [secureCiphers(SCENARIO4_SECRET, 'client').rx, secureCiphers(new Uint8Array(64), 'server').rx]) {
      const dec = new V2FrameDecoder({ banner: false })
      dec.enableSecure(rx)
      dec.push(frame)
      assert.throws(() => dec.next(), (e: unknown) => e instanceof V2Error && e.code === V2ErrorCode.DECRYPT_FAILED &&
        e.message === 'DECRYPT_FAILED at offset 0: secure frame failed authentication')
    }
  })

  it('aborted frames and cut streams are reported as in crc mode', () => {
    const { tx, rx } = { tx: secureCiphers(SCENARIO4_SECRET, 'client').tx, rx: secureCiphers(SCENARIO4_SECRET, 'server').rx }
    const aborted = concat(encodeFrameSecure(tx, Tag.MESSAGE, [new Uint8Array(41), new Uint8Array(100)], LateStatus.ABORTED))
    const next = concat(encodeFrameSecure(tx, Tag.KEEPALIVE2, [new Uint8Array(8)]))
    const dec = new V2FrameDecoder({ banner: false })
    dec.enableSecure(rx)
    dec.push(concat([aborted, next.subarray(0, 50)]))
    assert.throws(() => dec.next(), isCode(V2ErrorCode.FRAME_ABORTED))
    assert.equal(dec.next(), undefined)
    assert.throws(() => dec.end(), isCode(V2ErrorCode.TRUNCATED))
  })
})
