import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  AF_INET, AF_INET6, AF_UNSPEC, AddrType, compareEntityAddr, decodeEntityAddr, encodeEntityAddr,
  encodeEntityAddrInto, formatEntityAddr, parseEntityAddr
} from '../../lib/wire/entity-addr.ts'
import type { EntityAddr } from '../../lib/wire/entity-addr.ts'
import { ErrorCode, ProtocolError } from '../../lib/wire/errors.ts'
import { CLIENT_AT, SERVER_AT, clientBytes, serverBytes } from './fixture.ts'

const u32 = fc.integer({ min: 0, max: 0xffffffff })
const port = fc.integer({ min: 0, max: 65535 })

/** RFC 5952 text of an IPv6 address, via the WHATWG URL serializer (an independent oracle). */
function canonicalV6 (ip: string): string {
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1)
}

const v4Addr: fc.Arbitrary<EntityAddr> = fc.record({
  type: fc.constant<number>(AddrType.LEGACY),
  nonce: u32,
  family: fc.constant(AF_INET),
  ip: fc.ipV4(),
  port
}).map((a) => ({ ...a })) // plain objects: fc.record builds null-prototype ones

const v6Addr: fc.Arbitrary<EntityAddr> = fc.record({
  type: fc.constant<number>(AddrType.LEGACY),
  nonce: u32,
  family: fc.constant(AF_INET6),
  ip: fc.ipV6().map(canonicalV6),
  port,
  flowInfo: u32,
  scopeId: u32
}).map((a) => ({ ...a }))

function expectError (fn: () => unknown, code: string, offset: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtocolError)
    assert.equal(e.code, code)
    assert.equal(e.offset, offset)
    return true
  })
}

describe('entity_addr (legacy 136-byte form)', () => {
  it('round-trips IPv4 addresses', () => {
    fc.assert(fc.property(v4Addr, (a) => {
      const b = encodeEntityAddr(a)
      assert.equal(b.length, 136)
      assert.deepEqual(decodeEntityAddr(b), a)
    }), { numRuns: 300 })
  })

  it('round-trips IPv6 addresses with flowinfo and scope id', () => {
    fc.assert(fc.property(v6Addr, (a) => {
      assert.deepEqual(decodeEntityAddr(encodeEntityAddr(a)), a)
    }), { numRuns: 300 })
  })

  it('formats any 16 IPv6 bytes the RFC 5952 way', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (ipBytes) => {
      const b = new Uint8Array(136)
      b[9] = AF_INET6
      b.set(ipBytes, 16)
      const a = decodeEntityAddr(b)
      const hex = Buffer.from(ipBytes).toString('hex').match(/.{4}/g)?.join(':') ?? ''
      assert.equal(a.ip, canonicalV6(hex))
      assert.deepEqual(encodeEntityAddr(a), b)
    }), { numRuns: 300 })
  })

  it('lays out 127.0.0.1:6789 as the mon sends it', () => {
    const b = encodeEntityAddr({ type: AddrType.LEGACY, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 6789 })
    const want = new Uint8Array(136)
    want.set([0, 2, 0x1a, 0x85, 127, 0, 0, 1], 8) // family and port big-endian, then the IP
    assert.deepEqual(b, want)
    // ... which is byte for byte what the real mon sent.
    assert.deepEqual(b, serverBytes.subarray(SERVER_AT.addr, SERVER_AT.addr + 136))
  })

  it('lays out IPv6: family 0x000a, flowinfo at 12 (network order), address at 16, scope id at 32', () => {
    const b = encodeEntityAddr({ type: AddrType.LEGACY, nonce: 0x01020304, family: AF_INET6, ip: '2001:db8::1', port: 3300, flowInfo: 0x0a0b0c0d, scopeId: 7 })
    const dv = new DataView(b.buffer)
    assert.equal(dv.getUint32(4, true), 0x01020304)
    assert.equal(dv.getUint16(8, false), 10)
    assert.equal(dv.getUint16(10, false), 3300)
    assert.equal(dv.getUint32(12, false), 0x0a0b0c0d)
    assert.deepEqual([...b.subarray(16, 32)], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert.equal(dv.getUint32(32, true), 7)
    assert.ok(b.subarray(36).every((x) => x === 0))
  })

  it('encodes into a larger buffer at an offset, leaving the rest alone', () => {
    fc.assert(fc.property(v4Addr, fc.nat(20), (a, at) => {
      const out = new Uint8Array(at + 136 + 5).fill(0xee)
      encodeEntityAddrInto(a, out.subarray(1), at)
      assert.equal(out[0], 0xee)
      assert.ok(out.subarray(at + 137).every((x) => x === 0xee))
      assert.deepEqual(decodeEntityAddr(out, at + 1), a)
    }), { numRuns: 100 })
  })

  it('decodes the real banner addresses', () => {
    assert.deepEqual(decodeEntityAddr(clientBytes, CLIENT_AT.addr), {
      type: AddrType.LEGACY, nonce: 0xc78e4636, family: AF_INET, ip: '127.0.0.1', port: 0
    })
    assert.deepEqual(decodeEntityAddr(serverBytes, SERVER_AT.peerAddr), {
      type: AddrType.LEGACY, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 56906
    })
  })

  it('decodes a blank (AF_UNSPEC) address', () => {
    const b = new Uint8Array(136)
    b[4] = 9
    assert.deepEqual(decodeEntityAddr(b), { type: AddrType.LEGACY, nonce: 9, family: AF_UNSPEC, ip: '', port: 0 })
  })

  it('refuses the addr2 marker, unknown families and short input with stream offsets', () => {
    const b = new Uint8Array(136)
    b[0] = 1
    expectError(() => decodeEntityAddr(b, 0, 500), ErrorCode.BAD_ADDR, 500)
    b[0] = 0
    b[9] = 7
    expectError(() => decodeEntityAddr(b, 0, 500), ErrorCode.BAD_ADDR, 508)
    expectError(() => decodeEntityAddr(new Uint8Array(135)), ErrorCode.TRUNCATED, 0)
  })

  it('compares like memcmp of the legacy struct', () => {
    fc.assert(fc.property(fc.oneof(v4Addr, v6Addr), fc.oneof(v4Addr, v6Addr), (a, b) => {
      const x = encodeEntityAddr(a)
      const y = encodeEntityAddr(b)
      assert.equal(Math.sign(compareEntityAddr(a, b)), Math.sign(Buffer.compare(x, y)))
    }), { numRuns: 200 })
  })
})

describe('entity_addr text form', () => {
  it('parses and formats v1:127.0.0.1:6789/0', () => {
    const a = parseEntityAddr('v1:127.0.0.1:6789/0')
    assert.deepEqual(a, { type: AddrType.LEGACY, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 6789 })
    assert.ok(a !== undefined)
    assert.equal(formatEntityAddr(a), 'v1:127.0.0.1:6789/0')
    assert.equal(formatEntityAddr(a, false), 'v1:127.0.0.1:6789')
  })

  it('parses and formats v1:[::1]:6789', () => {
    const a = parseEntityAddr('v1:[::1]:6789')
    assert.deepEqual(a, { type: AddrType.LEGACY, nonce: 0, family: AF_INET6, ip: '::1', port: 6789, flowInfo: 0, scopeId: 0 })
    assert.ok(a !== undefined)
    assert.equal(formatEntityAddr(a, false), 'v1:[::1]:6789')
    assert.equal(formatEntityAddr(a), 'v1:[::1]:6789/0')
  })

  it('parses other forms: no prefix, v2:, nonce, default port, bare IPv6', () => {
    assert.deepEqual(parseEntityAddr('10.0.0.1:3300'), { type: AddrType.LEGACY, nonce: 0, family: AF_INET, ip: '10.0.0.1', port: 3300 })
    assert.deepEqual(parseEntityAddr('v2:10.0.0.1:3300/42'), { type: AddrType.MSGR2, nonce: 42, family: AF_INET, ip: '10.0.0.1', port: 3300 })
    assert.deepEqual(parseEntityAddr('10.0.0.1', 6789), { type: AddrType.LEGACY, nonce: 0, family: AF_INET, ip: '10.0.0.1', port: 6789 })
    assert.equal(parseEntityAddr('fe80:0:0::1', 6789)?.ip, 'fe80::1')
    assert.equal(parseEntityAddr('[2001:DB8:0:0:0:0:0:1]:1')?.ip, '2001:db8::1')
    assert.equal(formatEntityAddr({ type: AddrType.LEGACY, nonce: 3, family: AF_UNSPEC, ip: '', port: 0 }), 'v1:-/3')
  })

  it('rejects what is not an address', () => {
    for (const bad of ['hello', 'v1:300.1.1.1:1', 'v1:1.2.3.4:70000', 'v1:1.2.3.4:-1', 'v1:1.2.3.4:1/x', 'v1:1.2.3.4:1/4294967296', '[::1', '[::1]x', 'v1:[::1]:port']) {
      assert.equal(parseEntityAddr(bad), undefined, bad)
    }
  })

  it('round-trips format → parse for IPv4 and IPv6', () => {
    const v6NoExtras = v6Addr.map((a) => ({ ...a, flowInfo: 0, scopeId: 0 }))
    fc.assert(fc.property(fc.oneof(v4Addr, v6NoExtras), (a) => {
      assert.deepEqual(parseEntityAddr(formatEntityAddr(a)), a)
    }), { numRuns: 300 })
  })
})
