import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { FOOTER_LEN, FOOTER_OLD_LEN, FooterFlag, HEADER_LEN, Tag } from '../../lib/wire/constants.ts'
import { crc32c } from '../../lib/wire/crc32c.ts'
import { FrameDecoder } from '../../lib/wire/decoder.ts'
import {
  WriteBatch, encodeAck, encodeKeepalive2, encodeMessage, messageFrameLength
} from '../../lib/wire/encoder.ts'
import type { CrcOptions, OutgoingMessage } from '../../lib/wire/encoder.ts'
import { decodeFooter, decodeHeader } from '../../lib/wire/header.ts'
import { concat } from './fixture.ts'

/** Deterministic filler, so large payloads need not come from fast-check byte by byte. */
function bytes (n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed | 1
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; out[i] = x >>> 24 }
  return out
}

function message (front: number, middle: number, data: number, seed = 1): OutgoingMessage {
  return {
    header: { seq: seed, tid: seed * 3, type: 42, priority: 127, version: 2, dataOff: 0, src: { type: 8, num: -1 }, compatVersion: 1 },
    front: bytes(front, seed),
    middle: bytes(middle, seed + 1),
    data: bytes(data, seed + 2)
  }
}

type Op =
  | { op: 'msg', front: number, middle: number, data: number, seed: number }
  | { op: 'ack', seq: number }
  | { op: 'ka2', sec: number, nsec: number, ack: boolean }
  | { op: 'raw', n: number, seed: number }
  | { op: 'flush' }

const size = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 100 }) },
  { weight: 2, arbitrary: fc.integer({ min: 4000, max: 4200 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 140_000 }) }
)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('msg' as const), front: size, middle: fc.oneof(fc.constant(0), size), data: size, seed: fc.nat(1000) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('ack' as const), seq: fc.maxSafeNat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('ka2' as const), sec: fc.nat(), nsec: fc.nat(999_999_999), ack: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('raw' as const), n: size, seed: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) }
)

describe('WriteBatch', () => {
  it('produces exactly the bytes of the pure encoders, concatenated, across flushes', () => {
    fc.assert(fc.property(
      fc.array(opArb, { maxLength: 25 }), fc.boolean(), fc.record({ crcHeader: fc.boolean(), crcData: fc.boolean() }),
      fc.integer({ min: 64, max: 128 * 1024 }), fc.integer({ min: 1, max: 8192 }),
      (ops, msgAuth, crc: CrcOptions, blockSize, inlineMax) => {
        const batch = new WriteBatch(blockSize, inlineMax)
        let want: Uint8Array[] = []
        let frames = 0
        const check = (): void => {
          const wantBytes = concat(want)
          assert.equal(batch.bytes, wantBytes.length)
          assert.equal(batch.frames, frames)
          assert.equal(batch.empty, wantBytes.length === 0)
          const got = batch.flush()
          assert.ok(got.every((b) => b.length > 0), 'no empty buffers in a flush')
          assert.deepEqual(concat(got), wantBytes)
          assert.equal(batch.bytes, 0)
          want = []
          frames = 0
        }
        for (const o of ops) {
          switch (o.op) {
            case 'msg': {
              const m = message(o.front, o.middle, o.data, o.seed)
              batch.appendMessage(m, msgAuth, crc)
              want.push(...encodeMessage(m, msgAuth, crc))
              frames++
              break
            }
            case 'ack': batch.appendAck(o.seq); want.push(encodeAck(o.seq)); frames++; break
            case 'ka2': batch.appendKeepalive2(o, o.ack); want.push(encodeKeepalive2(o, o.ack)); frames++; break
            case 'raw': { const b = bytes(o.n, o.seed); batch.append(b); want.push(b); break }
            case 'flush': check(); break
          }
        }
        check()
      }
    ), { numRuns: 150 })
  })

  it('passes large payloads by reference and copies small ones', () => {
    const batch = new WriteBatch(64 * 1024, 4096)
    const big = message(10, 0, 1024 * 1024)
    const small = message(10, 0, 100)
    batch.appendMessage(big, true)
    batch.appendMessage(small, true)
    const out = batch.flush()
    const refs = out.filter((b) => b.buffer === big.data.buffer)
    assert.equal(refs.length, 1)
    assert.equal(refs[0], big.data, 'the very same view, not a copy')
    assert.ok(!out.some((b) => b.buffer === small.data.buffer || b.buffer === small.front.buffer || b.buffer === big.front.buffer))
    // tag+header+front in one block, the 1 MiB data by reference, the rest packed into the block again
    assert.equal(out.length, 3)
    assert.equal(concat(out).length, messageFrameLength(big, true) + messageFrameLength(small, true))
  })

  it('reuses its block after a flush without disturbing what was handed out', () => {
    const batch = new WriteBatch(1024, 4096)
    batch.appendAck(1)
    const first = batch.flush()
    const firstCopy = concat(first)
    batch.appendAck(2)
    batch.appendAck(3)
    const second = batch.flush()
    assert.deepEqual(concat(first), firstCopy)
    assert.deepEqual(concat(second), concat([encodeAck(2), encodeAck(3)]))
  })
})

describe('encodeMessage', () => {
  it('writes tag, header, sections and footer with Ceph\'s crcs', () => {
    const m = message(55, 7, 300)
    const parts = encodeMessage(m, true)
    assert.equal(parts.length, 5)
    assert.equal(parts[1], m.front, 'sections by reference')
    const b = concat(parts)
    assert.equal(b.length, messageFrameLength(m, true))
    assert.equal(b[0], Tag.MSG)
    const h = decodeHeader(b, 1)
    assert.deepEqual([h.frontLen, h.middleLen, h.dataLen, h.reserved], [55, 7, 300, 0])
    assert.equal(h.crc, crc32c(b.subarray(1, 50)))
    const f = decodeFooter(b, b.length - FOOTER_LEN, true)
    assert.deepEqual(f, { frontCrc: crc32c(m.front), middleCrc: crc32c(m.middle), dataCrc: crc32c(m.data), sig: 0n, flags: FooterFlag.COMPLETE })
  })

  it('crcData off → NOCRC flag and data_crc 0 (front and middle crcs kept)', () => {
    const m = message(20, 5, 1000)
    const b = concat(encodeMessage(m, true, { crcData: false }))
    const f = decodeFooter(b, b.length - FOOTER_LEN, true)
    assert.equal(f.flags, FooterFlag.COMPLETE | FooterFlag.NOCRC)
    assert.equal(f.dataCrc, 0)
    assert.equal(f.frontCrc, crc32c(m.front))
    assert.equal(f.middleCrc, crc32c(m.middle))
    // The decoder accepts it without checking the data.
    const dec = new FrameDecoder({ role: 'server', phase: 'tags', msgAuth: true })
    dec.push(b)
    const [frame] = dec.drain()
    assert.ok(frame.kind === 'msg' && frame.dataCrcChecked === false)
  })

  it('crcHeader off → header, front and middle crcs 0', () => {
    const b = concat(encodeMessage(message(20, 5, 10), true, { crcHeader: false }))
    assert.equal(decodeHeader(b, 1).crc, 0)
    const f = decodeFooter(b, b.length - FOOTER_LEN, true)
    assert.deepEqual([f.frontCrc, f.middleCrc, f.flags], [0, 0, FooterFlag.COMPLETE])
    assert.notEqual(f.dataCrc, 0)
  })

  it('old footer: 13 bytes, and sig is carried only by the new one', () => {
    const m = { ...message(3, 0, 0), sig: 0x0102030405060708n }
    const old = concat(encodeMessage(m, false))
    assert.equal(old.length, 1 + HEADER_LEN + 3 + FOOTER_OLD_LEN)
    assert.equal(decodeFooter(old, old.length - FOOTER_OLD_LEN, false).sig, 0n)
    const neu = concat(encodeMessage(m, true))
    assert.equal(decodeFooter(neu, neu.length - FOOTER_LEN, true).sig, 0x0102030405060708n)
  })

  it('round-trips through the decoder', () => {
    fc.assert(fc.property(fc.nat(300), fc.nat(50), fc.nat(5000), fc.boolean(), (fl, ml, dl, msgAuth) => {
      const m = message(fl, ml, dl, fl + dl)
      const dec = new FrameDecoder({ role: 'client', phase: 'tags', msgAuth })
      dec.push(concat(encodeMessage(m, msgAuth)))
      const [f] = dec.drain()
      dec.end()
      assert.ok(f.kind === 'msg')
      assert.deepEqual(f.front, m.front)
      assert.deepEqual(f.middle, m.middle)
      assert.deepEqual(f.data, m.data)
      const { frontLen: _f, middleLen: _m, dataLen: _d, crc: _c, reserved: _r, ...rest } = f.header
      assert.deepEqual(rest, m.header)
    }), { numRuns: 100 })
  })
})
