import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { asLegacyAddr, decodeAddr, encodeAddrBytes, legacyAddr } from '../../lib/messages/addr-codec.ts'
import { Decoder, Encoder } from '../../lib/messages/denc.ts'
import {
  CephRelease, ElectionStrategy, FEATURE_MONENC, FEATURE_MONNAMES, MMonMap, MonFeature, calcLegacyRanks, createMonMap,
  decodeMonMap, decodeMonMapFrom, encodeMonMap, findMon
} from '../../lib/messages/mon-map.ts'
import type { MonInfo, MonMap } from '../../lib/messages/mon-map.ts'
import { MsgType } from '../../lib/wire/constants.ts'
import { AF_INET, AddrType } from '../../lib/wire/entity-addr.ts'
import type { EntityAddr } from '../../lib/wire/entity-addr.ts'
import { PACIFIC_SUPPORTED } from '../../lib/wire/features.ts'
import { anyAddr, expectBadPayload, monMapArb, succeedsOrBadPayload, text, u16 } from './arbitraries.ts'
import { serverMessages } from './capture.ts'

const FULL = PACIFIC_SUPPORTED
const NO_NAUTILUS = FULL & ~(1n << 2n)
const NO_MONENC = FULL & ~FEATURE_MONENC
const NO_MONNAMES = FULL & ~FEATURE_MONNAMES
const NO_ADDR2 = FULL & ~(1n << 59n)

const realFront = serverMessages().find((m) => m.type === MsgType.MON_MAP)?.front ?? new Uint8Array(0)
const realMap = decodeMonMap(realFront.subarray(4))

/** What a single address looks like after a trip through the encoding chosen by `features`. */
function viaWire (a: EntityAddr, features: bigint): EntityAddr {
  return decodeAddr(new Decoder(encodeAddrBytes(a, features)))
}

function addr (port: number, type: number = AddrType.LEGACY, ip = '10.0.0.1'): EntityAddr {
  return { type, nonce: 0, family: AF_INET, ip, port }
}

function mon (name: string, addrs: EntityAddr[], extra: Partial<MonInfo> = {}): MonInfo {
  return { name, addrs, priority: 0, weight: 0, crushLocation: {}, ...extra }
}

describe('MonMap v9 (Pacific)', () => {
  it('the real map decodes completely and re-encodes to the same bytes', () => {
    const bl = realFront.subarray(4)
    const dec = new Decoder(bl)
    const map = decodeMonMapFrom(dec)
    assert.ok(dec.done)
    assert.equal(Buffer.from(encodeMonMap(map, FULL)).toString('hex'), Buffer.from(bl).toString('hex'))
    assert.equal(findMon(map, 'a')?.addrs.length, 2)
    assert.equal(findMon(map, 'noname-a'), undefined)
  })

  it('round-trips any map', () => {
    fc.assert(fc.property(monMapArb, (map) => {
      const b = encodeMonMap(map, FULL)
      assert.deepEqual(decodeMonMap(b), map)
    }), { numRuns: 300 })
  })

  it('encoding is canonical: mons and sets are sorted, duplicates in sets dropped', () => {
    const map = createMonMap({
      fsid: realMap.fsid,
      mons: [mon('b', [addr(2)]), mon('a', [addr(1)])],
      disallowedLeaders: ['z', 'a', 'z'],
      removedRanks: [3, 1, 3]
    })
    const back = decodeMonMap(encodeMonMap(map, FULL))
    assert.deepEqual(back.mons.map((m) => m.name), ['a', 'b'])
    assert.deepEqual(back.ranks, ['b', 'a']) // ranks keep their order
    assert.deepEqual(back.disallowedLeaders, ['a', 'z'])
    assert.deepEqual(back.removedRanks, [1, 3])
  })

  it('a mon with a crush location needs a v5 decoder (compat 5), otherwise compat 1', () => {
    const find = (map: MonMap): number[] => {
      const b = encodeMonMap(map, FULL)
      // mon_info_t follows the count and the map key "a" (4 + 1 bytes)
      const at = 6 + 16 + 4 + 8 + 8 + 14 + 14 + 4 + 5
      return [b[at], b[at + 1]]
    }
    const base = createMonMap({ fsid: realMap.fsid, mons: [mon('a', [addr(1)])] })
    assert.deepEqual(find(base), [5, 1])
    assert.deepEqual(find({ ...base, mons: [mon('a', [addr(1)], { crushLocation: { datacenter: 'dc1' } })] }), [5, 5])
  })

  it('refuses two mons with the same name', () => {
    const map = createMonMap({ fsid: realMap.fsid, mons: [mon('a', [addr(1)]), mon('a', [addr(2)])] })
    assert.throws(() => encodeMonMap(map, FULL), TypeError)
  })

  it('decoding repeated names keeps the last, as std::map does', () => {
    const enc = new Encoder()
    enc.start(9, 6).uuid(realMap.fsid).u32(1).utime({ sec: 0, nsec: 0 }).utime({ sec: 0, nsec: 0 })
    enc.start(1, 1).u64(0n).finish()
    enc.start(1, 1).u64(0n).finish()
    enc.u32(2)
    for (const p of [1, 2]) {
      enc.string('a').start(5, 1).string('a').u8(2).u32(0).u16(p).u16(0).u32(0).finish()
    }
    enc.u32(0).u8(16).u32(0).u8(1).u32(0).u8(0).u32(0).u32(0)
    enc.finish()
    const map = decodeMonMap(enc.finish())
    assert.deepEqual(map.mons.map((m) => [m.name, m.priority]), [['a', 2]])
  })

  it('skips fields of a newer version whose compat it meets; refuses a newer compat', () => {
    const body = encodeMonMap(realMap, FULL)
    const tail = Uint8Array.of(0xde, 0xad)
    const newer = new Uint8Array(body.length + tail.length)
    newer.set(body)
    newer.set(tail, body.length)
    newer[0] = 10
    new DataView(newer.buffer).setUint32(2, body.length - 6 + tail.length, true)
    assert.deepEqual(decodeMonMap(newer), realMap)
    const incompatible = body.slice()
    incompatible[1] = 10
    expectBadPayload(() => decodeMonMap(incompatible), 0)
  })

  it('reads v6-v8 maps, defaulting the fields they lack', () => {
    const build = (v: number): Uint8Array => {
      const enc = new Encoder()
      enc.start(v, 6).uuid(realMap.fsid).u32(4).utime({ sec: 5, nsec: 6 }).utime({ sec: 7, nsec: 8 })
      enc.start(1, 1).u64(MonFeature.KRAKEN | MonFeature.LUMINOUS | MonFeature.MIMIC | MonFeature.NAUTILUS).finish()
      enc.start(1, 1).u64(0n).finish()
      enc.u32(1).string('a').start(3, 1).string('a').u8(2).u32(0).u16(7).finish() // a Nautilus mon_info_t
      enc.u32(1).string('a')
      if (v >= 7) enc.u8(CephRelease.OCTOPUS)
      if (v >= 8) enc.u32(1).u32(2).u8(ElectionStrategy.CONNECTIVITY).u32(1).string('a')
      enc.finish()
      return enc.finish()
    }
    const v6 = decodeMonMap(build(6))
    assert.equal(v6.epoch, 4)
    assert.deepEqual(v6.mons, [mon('a', [], { priority: 7 })])
    assert.deepEqual(v6.ranks, ['a'])
    assert.equal(v6.minMonRelease, CephRelease.NAUTILUS) // inferred from the mon features
    assert.equal(v6.electionStrategy, ElectionStrategy.CLASSIC)
    assert.equal(decodeMonMap(build(7)).minMonRelease, CephRelease.OCTOPUS)
    const v8 = decodeMonMap(build(8))
    assert.deepEqual(v8.removedRanks, [2])
    assert.equal(v8.electionStrategy, ElectionStrategy.CONNECTIVITY)
    assert.deepEqual(v8.disallowedLeaders, ['a'])
    assert.equal(v8.stretchModeEnabled, false)
  })
})

describe('MonMap for older peers', () => {
  // Maps whose mons each have a v1 address, as real ones do, and whose ranks name those mons.
  const withV1 = fc.uniqueArray(fc.record({ name: text(8), v1: anyAddr, v2: fc.option(anyAddr, { nil: undefined }), priority: u16 }),
    { minLength: 1, maxLength: 4, selector: (m) => m.name })
    .chain((ms) => fc.shuffledSubarray(ms.map((m) => m.name), { minLength: ms.length, maxLength: ms.length }).map((ranks) => ({ ms, ranks })))
    .map(({ ms, ranks }) => createMonMap({
      fsid: realMap.fsid,
      epoch: 3,
      mons: ms.map((m) => mon(m.name, [...(m.v2 !== undefined ? [{ ...m.v2, type: AddrType.MSGR2 }] : []), { ...m.v1, type: AddrType.LEGACY }], { priority: m.priority })),
      ranks
    }))

  const sameNamesAndAddrs = (got: MonMap, want: MonMap, pick: (addrs: EntityAddr[]) => EntityAddr, features: bigint): void => {
    assert.equal(got.fsid, want.fsid)
    assert.equal(got.epoch, want.epoch)
    assert.deepEqual(got.lastChanged, want.lastChanged)
    assert.deepEqual(got.created, want.created)
    const expected = new Map(want.mons.map((m) => [m.name, [viaWire(pick(m.addrs), features)]]))
    assert.deepEqual(new Map(got.mons.map((m) => [m.name, m.addrs])), expected)
  }

  it('without SERVER_NAUTILUS: v5 (compat 3) with one legacy address per mon', () => {
    fc.assert(fc.property(withV1, (map) => {
      const b = encodeMonMap(map, NO_NAUTILUS)
      assert.deepEqual([b[0], b[1]], [5, 3])
      const got = decodeMonMap(b)
      sameNamesAndAddrs(got, map, asLegacyAddr, NO_NAUTILUS)
      assert.equal(got.persistentFeatures, map.persistentFeatures)
      assert.deepEqual(new Map(got.mons.map((m) => [m.name, m.priority])), new Map(map.mons.map((m) => [m.name, m.priority])))
      assert.deepEqual([...got.ranks].sort(), [...map.ranks].sort())
      assert.deepEqual(got.ranks, calcLegacyRanks(got.mons))
    }), { numRuns: 200 })
  })

  it('without MONENC: the u16 version 2 layout (name → address)', () => {
    fc.assert(fc.property(withV1, (map) => {
      const b = encodeMonMap(map, NO_MONENC)
      assert.deepEqual([b[0], b[1]], [2, 0])
      sameNamesAndAddrs(decodeMonMap(b), map, asLegacyAddr, NO_MONENC)
    }), { numRuns: 200 })
  })

  it('without MONNAMES: the u16 version 1 layout, mons named by rank', () => {
    fc.assert(fc.property(withV1, (map) => {
      const b = encodeMonMap(map, NO_MONNAMES)
      assert.deepEqual([b[0], b[1]], [1, 0])
      const got = decodeMonMap(b)
      assert.equal(got.fsid, map.fsid)
      assert.equal(got.epoch, map.epoch)
      const byName = new Map(map.mons.map((m) => [m.name, m]))
      assert.deepEqual(got.mons.map((m) => m.name), map.ranks.map((_, i) => String(i)))
      got.mons.forEach((m, i) => {
        const want = byName.get(map.ranks[i])
        assert.ok(want !== undefined)
        assert.deepEqual(m.addrs, [viaWire(legacyAddr(want.addrs), NO_MONNAMES)])
      })
    }), { numRuns: 200 })
  })

  it('without MSG_ADDR2: v9 with each address vector cut to its legacy address', () => {
    fc.assert(fc.property(withV1, (map) => {
      const b = encodeMonMap(map, NO_ADDR2)
      assert.deepEqual([b[0], b[1]], [9, 6])
      sameNamesAndAddrs(decodeMonMap(b), map, legacyAddr, NO_ADDR2)
    }), { numRuns: 200 })
  })

  it('MMonMap encodes for the connection it is sent on', () => {
    const m = new MMonMap({ monmap: realMap })
    m.encodePayload(NO_NAUTILUS)
    assert.equal(m.front[4], 5)
    m.encodePayload(FULL)
    assert.deepEqual(m.front, realFront)
  })

  it('every truncation of every layout is BAD_PAYLOAD', () => {
    const layouts = [FULL, NO_NAUTILUS, NO_MONENC, NO_MONNAMES, NO_ADDR2]
    fc.assert(fc.property(withV1, fc.constantFrom(...layouts), fc.nat(), (map, features, cutSeed) => {
      const b = encodeMonMap(map, features)
      expectBadPayload(() => decodeMonMap(b.subarray(0, cutSeed % b.length)))
    }), { numRuns: 300 })
  })

  it('random bytes decode or fail with BAD_PAYLOAD, for every leading version byte', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 12 }), fc.uint8Array({ maxLength: 200 }), (v, rest) => {
      succeedsOrBadPayload(() => decodeMonMap(Uint8Array.of(v, ...rest)))
    }), { numRuns: 2000 })
  })
})

describe('calcLegacyRanks', () => {
  it('orders by v1 address, then by name', () => {
    const mons = [
      mon('c', [addr(6789, AddrType.LEGACY, '10.0.0.3')]),
      mon('b', [addr(6789, AddrType.LEGACY, '10.0.0.1')]),
      mon('a', [addr(6789, AddrType.LEGACY, '10.0.0.2')]),
      mon('d', [addr(6789, AddrType.LEGACY, '10.0.0.1')])
    ]
    assert.deepEqual(calcLegacyRanks(mons), ['b', 'd', 'a', 'c'])
  })
})
