import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { EntityType, FOOTER_LEN, FOOTER_OLD_LEN, FooterFlag, HEADER_LEN, Tag } from '../../lib/wire/constants.ts'
import { crc32c } from '../../lib/wire/crc32c.ts'
import { FrameDecoder } from '../../lib/wire/decoder.ts'
import { encodeAck, encodeKeepalive2, timespecNow } from '../../lib/wire/encoder.ts'
import {
  decodeFooter, decodeHeader, encodeFooter, encodeHeader, encodeHeaderInto, footerLen, headerCrc
} from '../../lib/wire/header.ts'
import type { MsgFooter, MsgHeader } from '../../lib/wire/header.ts'
import { CLIENT_AT, SERVER_AT, clientBytes, serverBytes } from './fixture.ts'

const u8 = fc.integer({ min: 0, max: 255 })
const u16 = fc.integer({ min: 0, max: 0xffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const s64 = fc.oneof(fc.constant(-1), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }))

const headerArb: fc.Arbitrary<MsgHeader> = fc.record({
  seq: fc.maxSafeNat(),
  tid: fc.maxSafeNat(),
  type: u16,
  priority: u16,
  version: u16,
  frontLen: u32,
  middleLen: u32,
  dataLen: u32,
  dataOff: u16,
  src: fc.record({ type: u8, num: s64 }).map((n) => ({ ...n })),
  compatVersion: u16,
  reserved: u16,
  crc: u32
}).map((h) => ({ ...h }))

const footerArb = (msgAuth: boolean): fc.Arbitrary<MsgFooter> => fc.record({
  frontCrc: u32,
  middleCrc: u32,
  dataCrc: u32,
  sig: msgAuth ? fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) : fc.constant(0n),
  flags: u8
}).map((f) => ({ ...f }))

describe('ceph_msg_header (53 bytes)', () => {
  it('round-trips every field; with crc on, the crc field is the crc of the first 49 bytes', () => {
    fc.assert(fc.property(headerArb, (h) => {
      const b = encodeHeader(h, true)
      assert.equal(b.length, HEADER_LEN)
      const crc = crc32c(b.subarray(0, 49))
      assert.deepEqual(decodeHeader(b), { ...h, crc })
      assert.equal(headerCrc(b), crc)
    }), { numRuns: 300 })
  })

  it('with crc off, keeps the given crc field', () => {
    fc.assert(fc.property(headerArb, (h) => {
      assert.deepEqual(decodeHeader(encodeHeader(h, false)), h)
    }), { numRuns: 100 })
  })

  it('puts each field at its documented offset (checked with DataView)', () => {
    fc.assert(fc.property(headerArb, fc.nat(9), (h, at) => {
      const out = new Uint8Array(at + HEADER_LEN)
      encodeHeaderInto(h, out, at, false)
      const dv = new DataView(out.buffer, at)
      assert.equal(dv.getBigUint64(0, true), BigInt(h.seq))
      assert.equal(dv.getBigUint64(8, true), BigInt(h.tid))
      assert.equal(dv.getUint16(16, true), h.type)
      assert.equal(dv.getUint16(18, true), h.priority)
      assert.equal(dv.getUint16(20, true), h.version)
      assert.equal(dv.getUint32(22, true), h.frontLen)
      assert.equal(dv.getUint32(26, true), h.middleLen)
      assert.equal(dv.getUint32(30, true), h.dataLen)
      assert.equal(dv.getUint16(34, true), h.dataOff)
      assert.equal(dv.getUint8(36), h.src.type)
      assert.equal(dv.getBigInt64(37, true), BigInt(h.src.num))
      assert.equal(dv.getUint16(45, true), h.compatVersion)
      assert.equal(dv.getUint16(47, true), h.reserved)
      assert.equal(dv.getUint32(49, true), h.crc)
      assert.deepEqual(decodeHeader(out, at), h)
    }), { numRuns: 200 })
  })

  it('encodes src client.? as num -1 (eight 0xff bytes)', () => {
    const h: MsgHeader = {
      seq: 1, tid: 0, type: 17, priority: 127, version: 1, frontLen: 55, middleLen: 0, dataLen: 0, dataOff: 0,
      src: { type: EntityType.CLIENT, num: -1 }, compatVersion: 1, reserved: 0, crc: 0
    }
    const b = encodeHeader(h)
    assert.deepEqual([...b.subarray(36, 45)], [8, 255, 255, 255, 255, 255, 255, 255, 255])
    assert.equal(decodeHeader(b).src.num, -1)
  })

  it('re-encodes the real MAuth and pong headers byte for byte', () => {
    for (const [bytes, at] of [[clientBytes, CLIENT_AT.mauth], [serverBytes, SERVER_AT.pong]] as const) {
      const real = bytes.subarray(at + 1, at + 1 + HEADER_LEN)
      const h = decodeHeader(real)
      assert.equal(headerCrc(real), h.crc)
      assert.deepEqual(encodeHeader(h, true), real)
    }
  })
})

describe('footers', () => {
  it('new footer (21 bytes, MSG_AUTH) round-trips, sig included', () => {
    fc.assert(fc.property(footerArb(true), (f) => {
      const b = encodeFooter(f, true)
      assert.equal(b.length, FOOTER_LEN)
      const dv = new DataView(b.buffer)
      assert.equal(dv.getUint32(0, true), f.frontCrc)
      assert.equal(dv.getUint32(4, true), f.middleCrc)
      assert.equal(dv.getUint32(8, true), f.dataCrc)
      assert.equal(dv.getBigUint64(12, true), f.sig)
      assert.equal(b[20], f.flags)
      assert.deepEqual(decodeFooter(b, 0, true), f)
    }), { numRuns: 300 })
  })

  it('old footer (13 bytes) round-trips, without sig', () => {
    fc.assert(fc.property(footerArb(false), (f) => {
      const b = encodeFooter(f, false)
      assert.equal(b.length, FOOTER_OLD_LEN)
      assert.equal(b[12], f.flags)
      assert.deepEqual(decodeFooter(b, 0, false), f)
    }), { numRuns: 300 })
  })

  it('footerLen picks the layout', () => {
    assert.equal(footerLen(true), 21)
    assert.equal(footerLen(false), 13)
  })

  it('decodes the real MAuth footer: front crc, empty sections 0, COMPLETE', () => {
    const at = CLIENT_AT.mauth + 1 + HEADER_LEN
    const f = decodeFooter(clientBytes, at + 55, true)
    assert.equal(f.frontCrc, crc32c(clientBytes.subarray(at, at + 55)))
    assert.deepEqual({ ...f, frontCrc: 0 }, { frontCrc: 0, middleCrc: 0, dataCrc: 0, sig: 0n, flags: FooterFlag.COMPLETE })
  })
})

describe('ACK and KEEPALIVE2 bodies', () => {
  function decodeTags (bytes: Uint8Array) {
    const dec = new FrameDecoder({ role: 'client', phase: 'tags' })
    dec.push(bytes)
    const frames = dec.drain()
    dec.end()
    return frames
  }

  it('ACK = tag 8 + u64 seq, round-trips through the decoder', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (seq) => {
      const b = encodeAck(seq)
      assert.equal(b.length, 9)
      assert.equal(b[0], Tag.ACK)
      assert.equal(new DataView(b.buffer).getBigUint64(1, true), BigInt(seq))
      assert.deepEqual(decodeTags(b), [{ kind: 'ack', seq }])
    }), { numRuns: 200 })
  })

  it('KEEPALIVE2 / KEEPALIVE2_ACK = tag + u32 sec + u32 nsec, round-trip through the decoder', () => {
    fc.assert(fc.property(u32, fc.integer({ min: 0, max: 999_999_999 }), fc.boolean(), (sec, nsec, ack) => {
      const b = encodeKeepalive2({ sec, nsec }, ack)
      assert.equal(b.length, 9)
      assert.equal(b[0], ack ? Tag.KEEPALIVE2_ACK : Tag.KEEPALIVE2)
      const dv = new DataView(b.buffer)
      assert.equal(dv.getUint32(1, true), sec)
      assert.equal(dv.getUint32(5, true), nsec)
      assert.deepEqual(decodeTags(b), [{ kind: ack ? 'keepalive2_ack' : 'keepalive2', stamp: { sec, nsec } }])
    }), { numRuns: 200 })
  })

  it('the real KEEPALIVE2 re-encodes byte for byte, and timespecNow splits milliseconds', () => {
    const real = clientBytes.subarray(CLIENT_AT.keepalive2, CLIENT_AT.keepalive2 + 9)
    const [f] = decodeTags(real)
    assert.ok(f.kind === 'keepalive2')
    assert.deepEqual(encodeKeepalive2(f.stamp), real)
    assert.deepEqual(timespecNow(1795629123684), { sec: 1795629123, nsec: 684000000 })
  })
})
