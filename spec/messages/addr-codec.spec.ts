import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  FEATURE_MSG_ADDR2, FEATUREMASK_SERVER_NAUTILUS, asLegacyAddr, decodeAddr, decodeAddrvec, encodeAddrBytes,
  encodeAddrvecBytes, legacyAddr
} from '../../lib/messages/addr-codec.ts'
import { Decoder, Encoder } from '../../lib/messages/denc.ts'
import { AF_INET, AF_INET6, AF_UNSPEC, AddrType, encodeEntityAddr } from '../../lib/wire/entity-addr.ts'
import type { EntityAddr } from '../../lib/wire/entity-addr.ts'
import { PACIFIC_SUPPORTED } from '../../lib/wire/features.ts'
import { anyAddr, expectBadPayload, hex, succeedsOrBadPayload } from './arbitraries.ts'

const FULL = PACIFIC_SUPPORTED
const ADDR2_ONLY = FEATURE_MSG_ADDR2


describe('entity_addr_t in payloads', () => {
  it('writes the addr2 form Pacific sent in the captured monmap', () => {
    // The v2 and v1 addresses of mon.a, byte for byte as they appear in the real MMonMap.
    const v2: EntityAddr = { type: AddrType.MSGR2, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 3300 }
    const v1: EntityAddr = { type: AddrType.LEGACY, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 6789 }
    assert.equal(hex(encodeAddrBytes(v2, FULL)), '0101011c00000002000000000000001000000002000ce47f0000010000000000000000')
    assert.equal(hex(encodeAddrBytes(v1, FULL)), '0101011c00000001000000000000001000000002001a857f0000010000000000000000')
    assert.equal(hex(encodeAddrvecBytes([v2, v1], FULL)).slice(0, 10), '0202000000')
  })

  it('round-trips IPv4 and IPv6 addresses of every type (addr2 form)', () => {
    fc.assert(fc.property(anyAddr, (a) => {
      const b = encodeAddrBytes(a, FULL)
      const dec = new Decoder(b)
      assert.deepEqual(decodeAddr(dec), a)
      assert.ok(dec.done)
    }), { numRuns: 500 })
  })

  it('IPv6 sockaddr is 28 bytes, IPv4 16, blank 28', () => {
    const len = (a: EntityAddr): number => new DataView(encodeAddrBytes(a, FULL).buffer).getUint32(15, true)
    assert.equal(len({ type: 1, nonce: 0, family: AF_INET, ip: '1.2.3.4', port: 1 }), 16)
    assert.equal(len({ type: 1, nonce: 0, family: AF_INET6, ip: '::1', port: 1 }), 28)
    assert.equal(len({ type: 0, nonce: 0, family: AF_UNSPEC, ip: '', port: 0 }), 28)
  })

  it('without MSG_ADDR2 writes the 136-byte legacy form (family big-endian)', () => {
    fc.assert(fc.property(anyAddr, (a) => {
      const b = encodeAddrBytes(a, 0n)
      assert.deepEqual(b, encodeEntityAddr(a))
      const back = decodeAddr(new Decoder(b))
      // The legacy form has no type: it reads back as LEGACY.
      assert.deepEqual(back, { ...a, type: AddrType.LEGACY })
    }), { numRuns: 200 })
  })

  it('maps ANY to LEGACY for peers without SERVER_NAUTILUS', () => {
    const a: EntityAddr = { type: AddrType.ANY, nonce: 7, family: AF_INET, ip: '10.0.0.1', port: 6789 }
    assert.equal(decodeAddr(new Decoder(encodeAddrBytes(a, ADDR2_ONLY))).type, AddrType.LEGACY)
    assert.equal(decodeAddr(new Decoder(encodeAddrBytes(a, ADDR2_ONLY | FEATUREMASK_SERVER_NAUTILUS))).type, AddrType.ANY)
    // bit 2 alone is not SERVER_NAUTILUS: the incarnation bits are required too.
    assert.equal(decodeAddr(new Decoder(encodeAddrBytes(a, ADDR2_ONLY | 4n))).type, AddrType.LEGACY)
  })

  it('reads a legacy blank address as type NONE', () => {
    const b = new Uint8Array(136)
    assert.deepEqual(decodeAddr(new Decoder(b)), { type: AddrType.NONE, nonce: 0, family: AF_UNSPEC, ip: '', port: 0 })
  })

  it('reads an unknown legacy family as blank, as Ceph does', () => {
    const b = new Uint8Array(136)
    b[4] = 9
    b[9] = 99 // family 99, big-endian
    assert.deepEqual(decodeAddr(new Decoder(b)), { type: AddrType.NONE, nonce: 9, family: AF_UNSPEC, ip: '', port: 0 })
  })

  it('accepts a shorter sockaddr and skips fields a newer encoder appended', () => {
    const enc = new Encoder()
    enc.u8(1).start(2, 1).u32(AddrType.LEGACY).u32(5).u32(4).u16(AF_INET).u8(0x1a).u8(0x85) // port 6789, network order
    enc.u64(0xdeadn) // a future field
    enc.finish()
    enc.u8(0xee)
    const dec = new Decoder(enc.finish())
    assert.deepEqual(decodeAddr(dec), { type: AddrType.LEGACY, nonce: 5, family: AF_INET, ip: '0.0.0.0', port: 6789 })
    assert.equal(dec.u8(), 0xee)
  })

  it('rejects bad markers and sockaddr lengths', () => {
    expectBadPayload(() => decodeAddr(new Decoder(Uint8Array.of(2))))
    const tooLong = new Encoder().u8(1).start(1, 1).u32(1).u32(0).u32(20).u16(AF_INET).bytes(new Uint8Array(18)).finish()
    expectBadPayload(() => decodeAddr(new Decoder(new Encoder().bytes(tooLong).finish())))
    const tooShort = new Encoder().u8(1).start(1, 1).u32(1).u32(0).u32(1).u8(0).finish()
    expectBadPayload(() => decodeAddr(new Decoder(tooShort)))
    const newer = new Encoder().u8(1).start(3, 2).u32(1).u32(0).u32(0).finish()
    expectBadPayload(() => decodeAddr(new Decoder(newer)))
  })

  it('every truncation throws BAD_PAYLOAD', () => {
    fc.assert(fc.property(anyAddr, fc.boolean(), fc.nat(), (a, addr2, cutSeed) => {
      const b = encodeAddrBytes(a, addr2 ? FULL : 0n)
      expectBadPayload(() => decodeAddr(new Decoder(b.subarray(0, cutSeed % b.length))))
    }), { numRuns: 300 })
  })

  it('random bytes give an address or BAD_PAYLOAD, nothing else', () => {
    const marked = fc.tuple(fc.constantFrom(0, 1, 2), fc.uint8Array({ maxLength: 160 }))
      .map(([m, rest]) => Uint8Array.of(m, ...rest))
    fc.assert(fc.property(marked, (b) => {
      succeedsOrBadPayload(() => decodeAddr(new Decoder(b)))
      succeedsOrBadPayload(() => decodeAddrvec(new Decoder(b)))
    }), { numRuns: 1000 })
  })
})

describe('entity_addrvec_t', () => {
  it('round-trips (marker 2, count, addresses)', () => {
    fc.assert(fc.property(fc.array(anyAddr, { maxLength: 4 }), (addrs) => {
      const b = encodeAddrvecBytes(addrs, FULL)
      assert.equal(b[0], 2)
      const dec = new Decoder(b)
      assert.deepEqual(decodeAddrvec(dec), addrs)
      assert.ok(dec.done)
    }), { numRuns: 300 })
  })

  it('reads a lone address of either form as a vector of one', () => {
    const a: EntityAddr = { type: AddrType.LEGACY, nonce: 3, family: AF_INET, ip: '192.168.0.1', port: 6789 }
    assert.deepEqual(decodeAddrvec(new Decoder(encodeAddrBytes(a, FULL))), [a])
    assert.deepEqual(decodeAddrvec(new Decoder(encodeAddrBytes(a, 0n))), [a])
  })

  it('without MSG_ADDR2 sends only the v1 address, in legacy form', () => {
    const v2: EntityAddr = { type: AddrType.MSGR2, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 3300 }
    const v1: EntityAddr = { type: AddrType.LEGACY, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 6789 }
    const b = encodeAddrvecBytes([v2, v1], 0n)
    assert.equal(b.length, 136)
    assert.deepEqual(decodeAddrvec(new Decoder(b)), [v1])
    // No v1 address at all: a blank one.
    assert.deepEqual(decodeAddrvec(new Decoder(encodeAddrvecBytes([v2], 0n))), [legacyAddr([])])
  })

  it('rejects an unknown marker and an absurd count', () => {
    expectBadPayload(() => decodeAddrvec(new Decoder(Uint8Array.of(3))))
    expectBadPayload(() => decodeAddrvec(new Decoder(Uint8Array.of(2, 0xff, 0xff, 0xff, 0xff))))
  })

  it('as_legacy_addr prefers v1, then any (relabelled), then the first', () => {
    const mk = (type: number, port: number): EntityAddr => ({ type, nonce: 0, family: AF_INET, ip: '1.1.1.1', port })
    assert.equal(asLegacyAddr([mk(AddrType.MSGR2, 1), mk(AddrType.LEGACY, 2)]).port, 2)
    assert.deepEqual(asLegacyAddr([mk(AddrType.MSGR2, 1), mk(AddrType.ANY, 3)]), mk(AddrType.LEGACY, 3))
    assert.deepEqual(asLegacyAddr([mk(AddrType.MSGR2, 1)]), mk(AddrType.LEGACY, 1))
  })
})
