// Shared fast-check generators and assertions for the message specs.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { compareStrings } from '../../lib/messages/denc.ts'
import type { MonInfo, MonMap } from '../../lib/messages/mon-map.ts'
import { AF_INET, AF_INET6, AddrType } from '../../lib/wire/entity-addr.ts'
import type { EntityAddr } from '../../lib/wire/entity-addr.ts'
import { ErrorCode, ProtocolError } from '../../lib/wire/errors.ts'

export const u32 = fc.integer({ min: 0, max: 0xffffffff })
export const u16 = fc.integer({ min: 0, max: 0xffff })
export const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
export const port = u16
/** Any Unicode text without lone surrogates (those cannot survive UTF-8). */
export const text = (maxLength = 20): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength })
export const addrType = fc.constantFrom<number>(AddrType.NONE, AddrType.LEGACY, AddrType.MSGR2, AddrType.ANY)

/** RFC 5952 text, via the WHATWG URL serializer (independent of the code under test). */
export function canonicalV6 (ip: string): string {
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1)
}

// Plain objects: fc.record builds null-prototype ones, which deepStrictEqual tells apart.
export const v4Addr: fc.Arbitrary<EntityAddr> = fc.record({ type: addrType, nonce: u32, ip: fc.ipV4(), port })
  .map((a) => ({ type: a.type, nonce: a.nonce, family: AF_INET, ip: a.ip, port: a.port }))
export const v6Addr: fc.Arbitrary<EntityAddr> = fc.record({ type: addrType, nonce: u32, ip: fc.ipV6(), port, flowInfo: u32, scopeId: u32 })
  .map((a) => ({ type: a.type, nonce: a.nonce, family: AF_INET6, ip: canonicalV6(a.ip), port: a.port, flowInfo: a.flowInfo, scopeId: a.scopeId }))
export const anyAddr = fc.oneof(v4Addr, v6Addr)

export function expectBadPayload (fn: () => unknown, offset?: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtocolError, `not a ProtocolError: ${String(e)}`)
    assert.equal(e.code, ErrorCode.BAD_PAYLOAD)
    if (offset !== undefined) assert.equal(e.offset, offset)
    return true
  })
}

/** Run fn: it may succeed or throw ProtocolError(BAD_PAYLOAD), nothing else. True on success. */
export function succeedsOrBadPayload (fn: () => unknown): boolean {
  try {
    fn()
    return true
  } catch (e) {
    assert.ok(e instanceof ProtocolError, `not a ProtocolError: ${e instanceof Error ? e.stack : String(e)}`)
    assert.equal(e.code, ErrorCode.BAD_PAYLOAD)
    return false
  }
}

export function hex (b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

/** A set<string> as decoded: unique, in UTF-8 byte order. */
export const stringSet = (maxLength = 4): fc.Arbitrary<string[]> =>
  fc.uniqueArray(text(12), { maxLength }).map((xs) => [...xs].sort(compareStrings))

const crushLocation = fc.dictionary(text(8), text(8), { maxKeys: 3 }).map((d) => Object.fromEntries(Object.entries(d)))

export const monInfoArb: fc.Arbitrary<MonInfo> = fc.record({
  name: text(12),
  addrs: fc.array(anyAddr, { maxLength: 3 }),
  priority: u16,
  weight: u16,
  crushLocation
}).map((m) => ({ ...m }))

/** Any MonMap in the canonical shape decoding produces (mons and sets sorted, no duplicates). */
export const monMapArb: fc.Arbitrary<MonMap> = fc.record({
  fsid: fc.uuid().map((s) => s.toLowerCase()),
  epoch: u32,
  lastChanged: fc.record({ sec: u32, nsec: u32 }).map((t) => ({ ...t })),
  created: fc.record({ sec: u32, nsec: u32 }).map((t) => ({ ...t })),
  persistentFeatures: u64,
  optionalFeatures: u64,
  mons: fc.uniqueArray(monInfoArb, { maxLength: 4, selector: (m) => m.name })
    .map((ms) => [...ms].sort((a, b) => compareStrings(a.name, b.name))),
  ranks: fc.array(text(12), { maxLength: 4 }),
  minMonRelease: fc.integer({ min: 0, max: 255 }),
  removedRanks: fc.uniqueArray(u32, { maxLength: 3 }).map((xs) => [...xs].sort((a, b) => a - b)),
  electionStrategy: fc.integer({ min: 0, max: 255 }),
  disallowedLeaders: stringSet(),
  stretchModeEnabled: fc.boolean(),
  tiebreakerMon: text(12),
  stretchMarkedDownMons: stringSet()
}).map((m) => ({ ...m }))
