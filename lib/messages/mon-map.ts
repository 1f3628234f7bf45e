// The monitor map and MMonMap (CEPH_MSG_MON_MAP = 4), whose front is one bufferlist holding the
// encoded MonMap.
//
// Layout facts (ceph src/mon/MonMap.cc, MonMap.h, mon/mon_types.h; the v9 layout is confirmed
// byte for byte against a real Pacific mon's MMonMap):
// - Pacific writes ENCODE_START(9, 6): raw 16-byte fsid, u32 epoch, utime last_changed, utime
//   created, mon_feature_t persistent and optional (each ENCODE_START(1, 1) + u64), map<string,
//   mon_info_t> (u32 count, sorted by name), vector<string> ranks, u8 min_mon_release,
//   set<u32> removed_ranks, u8 election strategy, set<string> disallowed_leaders, bool
//   stretch_mode_enabled, string tiebreaker_mon, set<string> stretch_marked_down_mons.
// - mon_info_t is ENCODE_START(5, 1): name, entity_addrvec_t, u16 priority, u16 weight,
//   map<string,string> crush_loc. A non-empty crush_loc raises compat to 5 (from memory of the
//   Pacific source; unconfirmed, the capture has an empty one).
// - Older peers get older layouts: without MONNAMES a u16 version 1 (vector of entity_inst_t);
//   without MONENC a u16 version 2 (map name → legacy address); without SERVER_NAUTILUS
//   ENCODE_START(5, 3) with that map plus features and mon_info_t v2 (one legacy address).
//   Decoding reads the version as a u8 and, below 3, skips the u16's high byte and has no length.
//   Which single address old peers get (the v1 one, else one relabelled v1) follows a
//   Nautilus-era copy of MonMap.cc for layout 1 and memory of Pacific for the others: unconfirmed,
//   and only pre-Nautilus peers ever see it.
// - removed_ranks is read as unsigned (the capture only shows it empty).
import { ENTITY_ADDR_LEN, EntityType, MsgType } from '../wire/constants.ts'
import { AF_INET6, AddrType, encodeEntityAddrInto } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import { DEFAULT_FEATURES_SUPPORTED } from '../wire/features.ts'
import { asLegacyAddr, decodeAddr, decodeAddrvec, encodeAddr, encodeAddrvec, hasServerNautilus, legacyAddr } from './addr-codec.ts'
import { Decoder, Encoder, compareStrings } from './denc.ts'
import type { Utime } from './denc.ts'
import { Message } from './message.ts'
import type { MessageHeaderInit } from './message.ts'

/** CEPH_FEATURE_MONNAMES (bit 5) and CEPH_FEATURE_MONENC (bit 15): plain bits, no incarnation. */
export const FEATURE_MONNAMES = 1n << 5n
export const FEATURE_MONENC = 1n << 15n

/** The newest MonMap encoding this code reads and writes (Pacific). */
export const MONMAP_VERSION = 9
export const MONMAP_COMPAT = 6
export const MON_INFO_VERSION = 5

/** ceph::features::mon bits, as kept in persistent/optional features. */
export const MonFeature = {
  KRAKEN: 1n << 0n,
  LUMINOUS: 1n << 1n,
  MIMIC: 1n << 2n,
  OSDMAP_PRUNE: 1n << 3n,
  NAUTILUS: 1n << 4n,
  OCTOPUS: 1n << 5n,
  PACIFIC: 1n << 6n,
  PINGING: 1n << 7n
} as const

/** ceph_release_t values used by min_mon_release. */
export const CephRelease = {
  UNKNOWN: 0,
  KRAKEN: 11,
  LUMINOUS: 12,
  MIMIC: 13,
  NAUTILUS: 14,
  OCTOPUS: 15,
  PACIFIC: 16
} as const

/** MonMap::election_strategy */
export const ElectionStrategy = {
  CLASSIC: 1,
  DISALLOW: 2,
  CONNECTIVITY: 3
} as const

export interface MonInfo {
  name: string
  /** The mon's public addresses (an entity_addrvec_t: typically v2 then v1). */
  addrs: EntityAddr[]
  priority: number
  /** 0 when absent. */
  weight?: number
  /** Stretch-mode location (e.g. { datacenter: 'dc1' }); empty when absent. */
  crushLocation?: Record<string, string>
}

export interface MonMap {
  fsid: string
  epoch: number
  lastChanged: Utime
  created: Utime
  persistentFeatures: bigint
  optionalFeatures: bigint
  /** One entry per mon; encoded as a map, so sorted by name on the wire. */
  mons: MonInfo[]
  /** Mon names in rank order. */
  ranks: string[]
  minMonRelease: number
  removedRanks: number[]
  electionStrategy: number
  disallowedLeaders: string[]
  stretchModeEnabled: boolean
  tiebreakerMon: string
  stretchMarkedDownMons: string[]
}

export type MonMapInit = Partial<MonMap> & Pick<MonMap, 'fsid' | 'mons'>

/** Persistent features of a Pacific mon cluster (what a real one reports: 0xff). */
export const PACIFIC_MON_FEATURES = MonFeature.KRAKEN | MonFeature.LUMINOUS | MonFeature.MIMIC |
  MonFeature.OSDMAP_PRUNE | MonFeature.NAUTILUS | MonFeature.OCTOPUS | MonFeature.PACIFIC | MonFeature.PINGING

/** A Pacific-looking monmap: epoch 1, ranks in the order given, classic elections. */
export function createMonMap (init: MonMapInit): MonMap {
  const now = Date.now()
  const stamp = { sec: Math.floor(now / 1000), nsec: (now % 1000) * 1_000_000 }
  return {
    fsid: init.fsid,
    epoch: init.epoch ?? 1,
    lastChanged: init.lastChanged ?? stamp,
    created: init.created ?? stamp,
    persistentFeatures: init.persistentFeatures ?? PACIFIC_MON_FEATURES,
    optionalFeatures: init.optionalFeatures ?? 0n,
    mons: init.mons,
    ranks: init.ranks ?? init.mons.map((m) => m.name),
    minMonRelease: init.minMonRelease ?? CephRelease.PACIFIC,
    removedRanks: init.removedRanks ?? [],
    electionStrategy: init.electionStrategy ?? ElectionStrategy.CLASSIC,
    disallowedLeaders: init.disallowedLeaders ?? [],
    stretchModeEnabled: init.stretchModeEnabled ?? false,
    tiebreakerMon: init.tiebreakerMon ?? '',
    stretchMarkedDownMons: init.stretchMarkedDownMons ?? []
  }
}

/** min_mon_release for maps older than v7, guessed from the persistent mon features. */
export function inferReleaseFromMonFeatures (f: bigint): number {
  if (f & MonFeature.NAUTILUS) return CephRelease.NAUTILUS
  if (f & MonFeature.MIMIC) return CephRelease.MIMIC
  if (f & MonFeature.LUMINOUS) return CephRelease.LUMINOUS
  if (f & MonFeature.KRAKEN) return CephRelease.KRAKEN
  return CephRelease.UNKNOWN
}

// ---- helpers for std::map / std::set of strings ----

function sortedStrings (items: readonly string[]): string[] {
  return [...new Set(items)].sort(compareStrings)
}

function encodeStringSet (enc: Encoder, items: readonly string[]): void {
  enc.array(sortedStrings(items), (e, s) => e.string(s))
}

function decodeStringSet (dec: Decoder): string[] {
  return dec.array((d) => d.string(), 4)
}

function encodeStringMap (enc: Encoder, m: Readonly<Record<string, string>>): void {
  enc.array(Object.keys(m).sort(compareStrings), (e, k) => e.string(k).string(m[k]))
}

function decodeStringMap (dec: Decoder): Record<string, string> {
  // fromEntries defines own properties, so a key such as "__proto__" stays plain data.
  return Object.fromEntries(dec.array((d): [string, string] => [d.string(), d.string()], 8))
}

/** The mons sorted by name, as std::map<string, mon_info_t> orders them; duplicates are an error. */
function sortedMons (mons: readonly MonInfo[]): MonInfo[] {
  const sorted = [...mons].sort((a, b) => compareStrings(a.name, b.name))
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].name === sorted[i - 1].name) throw new TypeError(`duplicate mon name ${sorted[i].name}`)
  }
  return sorted
}

/** What decoding into a std::map does with repeated names: the last one wins. */
function uniqueMons (mons: readonly MonInfo[]): MonInfo[] {
  const byName = new Map<string, MonInfo>()
  for (const m of mons) byName.set(m.name, m)
  return [...byName.values()].sort((a, b) => compareStrings(a.name, b.name))
}

// ---- mon_feature_t ----

function encodeMonFeature (enc: Encoder, f: bigint): void {
  enc.start(1, 1).u64(f).finish()
}

function decodeMonFeature (dec: Decoder): bigint {
  const s = dec.start(1, 'mon_feature_t')
  const f = dec.u64()
  dec.skipTo(s.end)
  return f
}

// ---- mon_info_t ----

function encodeMonInfo (enc: Encoder, m: MonInfo, features: bigint): void {
  const crush = m.crushLocation ?? {}
  if (!hasServerNautilus(features)) {
    enc.start(2, 1)
    enc.string(m.name)
    // Old peers understand a single address only: give them the v1 one, or something shaped like it.
    encodeAddr(enc, asLegacyAddr(m.addrs), features)
  } else {
    enc.start(MON_INFO_VERSION, Object.keys(crush).length > 0 ? 5 : 1)
    enc.string(m.name)
    encodeAddrvec(enc, m.addrs, features)
  }
  enc.u16(m.priority).u16(m.weight ?? 0)
  encodeStringMap(enc, crush)
  enc.finish()
}

function decodeMonInfo (dec: Decoder, key: string): MonInfo {
  const s = dec.start(MON_INFO_VERSION, 'mon_info_t')
  dec.string() // the name again; the map key is what Ceph looks mons up by
  const addrs = decodeAddrvec(dec)
  const priority = s.v >= 2 ? dec.u16() : 0
  const weight = s.v >= 4 ? dec.u16() : 0
  const crushLocation = s.v >= 5 ? decodeStringMap(dec) : {}
  dec.skipTo(s.end)
  return { name: key, addrs, priority, weight, crushLocation }
}

// ---- ranks of maps that predate the explicit rank list ----

/** entity_addr_t as memcmp sees it on a little-endian host: type, nonce, then the sockaddr union. */
function addrSortKey (a: EntityAddr): Uint8Array {
  const image = new Uint8Array(ENTITY_ADDR_LEN)
  encodeEntityAddrInto(a, image, 0)
  const key = new Uint8Array(36)
  const view = new DataView(key.buffer)
  view.setUint32(0, a.type >>> 0, true)
  view.setUint32(4, a.nonce >>> 0, true)
  view.setUint16(8, a.family, true)
  key.set(image.subarray(10, a.family === AF_INET6 ? 36 : 24), 10)
  return key
}

/** calc_legacy_ranks(): order by each mon's v1 (else first) address, then by name. */
export function calcLegacyRanks (mons: readonly MonInfo[]): string[] {
  const keyed = mons.map((m) => {
    const addr = m.addrs.find((a) => a.type === AddrType.LEGACY) ?? m.addrs[0]
    const key = addr === undefined ? new Uint8Array(36) : addrSortKey(addr)
    return { name: m.name, key }
  })
  keyed.sort((x, y) => Buffer.compare(x.key, y.key) || compareStrings(x.name, y.name))
  return keyed.map((k) => k.name)
}

// ---- MonMap ----

/** Encode a monmap for a peer with `features` (the negotiated connection features). */
export function encodeMonMapTo (enc: Encoder, map: MonMap, features: bigint): void {
  const mons = sortedMons(map.mons)
  if ((features & FEATURE_MONNAMES) === 0n) {
    enc.u16(1).uuid(map.fsid).u32(map.epoch)
    // vector<entity_inst_t>, in rank order, named mon.<rank>
    const byName = new Map(mons.map((m) => [m.name, m]))
    let rank = 0
    enc.array(map.ranks, (e, name) => {
      e.u8(EntityType.MON).s64(rank++)
      encodeAddr(e, legacyAddr(byName.get(name)?.addrs ?? []), features)
    })
    enc.utime(map.lastChanged).utime(map.created)
    return
  }
  const nautilus = hasServerNautilus(features)
  const legacyMap = (e: Encoder): void => {
    e.array(mons, (e2, m) => {
      e2.string(m.name)
      encodeAddr(e2, asLegacyAddr(m.addrs), features)
    })
  }
  if ((features & FEATURE_MONENC) === 0n) {
    enc.u16(2).uuid(map.fsid).u32(map.epoch)
    legacyMap(enc)
    enc.utime(map.lastChanged).utime(map.created)
    return
  }
  if (!nautilus) {
    enc.start(5, 3)
    enc.uuid(map.fsid).u32(map.epoch)
    legacyMap(enc)
    enc.utime(map.lastChanged).utime(map.created)
    encodeMonFeature(enc, map.persistentFeatures)
    encodeMonFeature(enc, map.optionalFeatures)
    enc.array(mons, (e, m) => { e.string(m.name); encodeMonInfo(e, m, features) })
    enc.finish()
    return
  }
  enc.start(MONMAP_VERSION, MONMAP_COMPAT)
  enc.uuid(map.fsid).u32(map.epoch)
  enc.utime(map.lastChanged).utime(map.created)
  encodeMonFeature(enc, map.persistentFeatures)
  encodeMonFeature(enc, map.optionalFeatures)
  enc.array(mons, (e, m) => { e.string(m.name); encodeMonInfo(e, m, features) })
  enc.array(map.ranks, (e, r) => e.string(r))
  enc.u8(map.minMonRelease)
  enc.array([...new Set(map.removedRanks)].sort((a, b) => a - b), (e, r) => e.u32(r))
  enc.u8(map.electionStrategy)
  encodeStringSet(enc, map.disallowedLeaders)
  enc.bool(map.stretchModeEnabled)
  enc.string(map.tiebreakerMon)
  encodeStringSet(enc, map.stretchMarkedDownMons)
  enc.finish()
}

export function encodeMonMap (map: MonMap, features: bigint = DEFAULT_FEATURES_SUPPORTED): Uint8Array {
  const enc = new Encoder(256)
  encodeMonMapTo(enc, map, features)
  return enc.finish()
}

/** Decode any MonMap encoding (v1 … v9, and newer ones whose compat is at most 9). */
export function decodeMonMapFrom (dec: Decoder): MonMap {
  const at = dec.pos
  const v = dec.u8()
  let end: number | undefined
  if (v >= 3) {
    const compat = dec.u8()
    if (compat > MONMAP_VERSION) dec.fail(`MonMap v${v} needs a decoder of v${compat}`, at)
    const lenAt = dec.pos
    const len = dec.u32()
    if (len > dec.remaining) dec.fail(`MonMap length ${len} but only ${dec.remaining} bytes left`, lenAt)
    end = dec.pos + len
  } else {
    if (v === 0) dec.fail('MonMap version 0', at)
    dec.u8() // high byte of the old u16 version
  }

  const fsid = dec.uuid()
  const epoch = dec.u32()
  let legacyAddrs: Array<[string, EntityAddr]> = []
  if (v === 1) {
    legacyAddrs = dec.array((d) => {
      d.u8() // entity_name_t type (mon)
      d.s64() // entity_name_t num (rank)
      return decodeAddr(d)
    }, 10).map((a, i) => [String.fromCharCode(48 + i), a])
  } else if (v < 6) {
    legacyAddrs = dec.array((d): [string, EntityAddr] => [d.string(), decodeAddr(d)], 5)
  }
  const lastChanged = dec.utime()
  const created = dec.utime()
  let persistentFeatures = 0n
  let optionalFeatures = 0n
  if (v >= 4) {
    persistentFeatures = decodeMonFeature(dec)
    optionalFeatures = decodeMonFeature(dec)
  }
  let mons: MonInfo[]
  if (v < 5) {
    mons = legacyAddrs.map(([name, addr]) => ({ name, addrs: [addr], priority: 0, weight: 0, crushLocation: {} }))
  } else {
    mons = dec.array((d) => decodeMonInfo(d, d.string()), 10)
  }
  mons = uniqueMons(mons)
  const ranks = v < 6 ? calcLegacyRanks(mons) : dec.array((d) => d.string(), 4)
  const minMonRelease = v >= 7 ? dec.u8() : inferReleaseFromMonFeatures(persistentFeatures)
  let removedRanks: number[] = []
  let electionStrategy: number = ElectionStrategy.CLASSIC
  let disallowedLeaders: string[] = []
  if (v >= 8) {
    removedRanks = dec.array((d) => d.u32(), 4)
    electionStrategy = dec.u8()
    disallowedLeaders = decodeStringSet(dec)
  }
  let stretchModeEnabled = false
  let tiebreakerMon = ''
  let stretchMarkedDownMons: string[] = []
  if (v >= 9) {
    stretchModeEnabled = dec.bool()
    tiebreakerMon = dec.string()
    stretchMarkedDownMons = decodeStringSet(dec)
  }
  if (end !== undefined) dec.skipTo(end)
  return {
    fsid,
    epoch,
    lastChanged,
    created,
    persistentFeatures,
    optionalFeatures,
    mons,
    ranks,
    minMonRelease,
    removedRanks,
    electionStrategy,
    disallowedLeaders,
    stretchModeEnabled,
    tiebreakerMon,
    stretchMarkedDownMons
  }
}

export function decodeMonMap (bytes: Uint8Array): MonMap {
  return decodeMonMapFrom(new Decoder(bytes))
}

/** A mon's info by name. */
export function findMon (map: MonMap, name: string): MonInfo | undefined {
  return map.mons.find((m) => m.name === name)
}

// ---- the message ----

export interface MMonMapInit extends MessageHeaderInit {
  monmap: MonMap
}

export class MMonMap extends Message {
  monmap: MonMap

  constructor (init: MMonMapInit) {
    super({ ...init, type: MsgType.MON_MAP })
    this.monmap = init.monmap
  }

  /** The map is encoded for the peer's features, as Ceph re-encodes it for old peers. */
  override encodePayload (features: bigint): void {
    const enc = new Encoder(256)
    enc.u32(0)
    encodeMonMapTo(enc, this.monmap, features)
    const out = enc.finish()
    new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(0, out.length - 4, true)
    this.front = out
  }

  static decode (m: Message): MMonMap {
    const dec = new Decoder(m.front)
    const lenAt = dec.pos
    const len = dec.u32()
    if (len > dec.remaining) dec.fail(`monmap length ${len} but only ${dec.remaining} bytes left`, lenAt)
    // Decode within the bufferlist's bounds, keeping offsets relative to the front.
    const monmap = decodeMonMapFrom(new Decoder(m.front, dec.pos, dec.pos + len))
    const out = new MMonMap({ monmap })
    out.copyFrom(m)
    return out
  }
}
