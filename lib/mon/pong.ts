// What a Pacific mon answers `ceph ping` with: the health section and mon_status, as the
// pretty-printed JSON its formatter writes. Field names, nesting and order mirror a real mon's
// pong (spec/fixtures/ceph-ping-v1/ceph-ping-v1.stdout.json), oddities included: the monmap dump
// writes "disallowed_leaders: " and "removed_ranks: " with the colon inside the key.
import { CephRelease, MonFeature } from '../messages/mon-map.ts'
import type { MonMap } from '../messages/mon-map.ts'
import type { Utime } from '../messages/denc.ts'
import { entityTypeName } from '../wire/constants.ts'
import { AddrType } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import { FEATURE_BITS } from '../wire/features.ts'

/** A JSON value as the pong holds it (no undefined, no bigint). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }

/** Mon feature bit → the name a mon prints (ceph::features::mon). */
const MON_FEATURE_NAMES: Array<[bigint, string]> = [
  [MonFeature.KRAKEN, 'kraken'],
  [MonFeature.LUMINOUS, 'luminous'],
  [MonFeature.MIMIC, 'mimic'],
  [MonFeature.OSDMAP_PRUNE, 'osdmap-prune'],
  [MonFeature.NAUTILUS, 'nautilus'],
  [MonFeature.OCTOPUS, 'octopus'],
  [MonFeature.PACIFIC, 'pacific'],
  [MonFeature.PINGING, 'elector-pinging']
]

const RELEASE_NAMES: Record<number, string> = {
  [CephRelease.KRAKEN]: 'kraken',
  [CephRelease.LUMINOUS]: 'luminous',
  [CephRelease.MIMIC]: 'mimic',
  [CephRelease.NAUTILUS]: 'nautilus',
  [CephRelease.OCTOPUS]: 'octopus',
  [CephRelease.PACIFIC]: 'pacific'
}

/**
 * What a real Pacific mon reports as mon_status.features.required_con: the connection features
 * it requires of other mons (observed value, 0x2200008010314004).
 */
export const PACIFIC_REQUIRED_CON = 0x2200008010314004n

export function monFeatureNames (f: bigint): string[] {
  return MON_FEATURE_NAMES.filter(([bit]) => (f & bit) !== 0n).map(([, name]) => name)
}

export function releaseName (r: number): string {
  return RELEASE_NAMES[r] ?? 'unknown'
}

const bit = (name: string): bigint => 1n << BigInt(FEATURE_BITS[name])

/**
 * The release a connection's features look like (the feature_map's "release"). Our own
 * approximation from the CRUSH/server bits that each release made mandatory for clients: a
 * Pacific client (0x3f01cfbdfffdffff) reads "luminous", as a real mon prints it, because no later
 * release added a client-required bit.
 */
export function releaseFromFeatures (f: bigint): string {
  const has = (...names: string[]): boolean => names.every((n) => (f & bit(n)) !== 0n)
  if (has('CRUSH_TUNABLES5', 'SERVER_JEWEL', 'SERVER_KRAKEN', 'SERVER_LUMINOUS')) return 'luminous'
  if (has('CRUSH_TUNABLES5', 'SERVER_JEWEL', 'SERVER_KRAKEN')) return 'kraken'
  if (has('CRUSH_TUNABLES5', 'SERVER_JEWEL')) return 'jewel'
  if (has('CRUSH_V4')) return 'hammer'
  if (has('CRUSH_TUNABLES3')) return 'firefly'
  return 'unknown'
}

/** utime as the mon's formatter prints it: ISO 8601 with microseconds and a Z. */
export function formatUtime (t: Utime): string {
  const iso = new Date(t.sec * 1000).toISOString().slice(0, 19)
  return `${iso}.${String(Math.floor(t.nsec / 1000)).padStart(6, '0')}Z`
}

function addrTypeName (t: number): string {
  switch (t) {
    case AddrType.LEGACY: return 'v1'
    case AddrType.MSGR2: return 'v2'
    case AddrType.ANY: return 'any'
    default: return 'none'
  }
}

function hostPort (a: EntityAddr): string {
  return a.ip.includes(':') ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`
}

/** The monmap section of mon_status (MonMap::dump shape). */
export function dumpMonMap (map: MonMap): Json {
  const rankOf = (name: string): number => map.ranks.indexOf(name)
  const mons = map.ranks
    .map((name) => map.mons.find((m) => m.name === name))
    .filter((m) => m !== undefined)
  return {
    epoch: map.epoch,
    fsid: map.fsid,
    modified: formatUtime(map.lastChanged),
    created: formatUtime(map.created),
    min_mon_release: map.minMonRelease,
    min_mon_release_name: releaseName(map.minMonRelease),
    election_strategy: map.electionStrategy,
    'disallowed_leaders: ': [...map.disallowedLeaders].sort().join(','),
    stretch_mode: map.stretchModeEnabled,
    tiebreaker_mon: map.tiebreakerMon,
    'removed_ranks: ': [...map.removedRanks].sort((a, b) => a - b).join(','),
    features: {
      persistent: monFeatureNames(map.persistentFeatures),
      optional: monFeatureNames(map.optionalFeatures)
    },
    mons: mons.map((m) => {
      const legacy = m.addrs.find((a) => a.type === AddrType.LEGACY) ?? m.addrs[0]
      const addr = legacy === undefined ? '-' : `${hostPort(legacy)}/${legacy.nonce}`
      const crush = Object.entries(m.crushLocation ?? {}).map(([k, v]) => `${k}=${v}`).join(',')
      return {
        rank: rankOf(m.name),
        name: m.name,
        public_addrs: { addrvec: m.addrs.map((a) => ({ type: addrTypeName(a.type), addr: hostPort(a), nonce: a.nonce })) },
        addr,
        public_addr: addr,
        priority: m.priority,
        weight: m.weight ?? 0,
        crush_location: `{${crush}}`
      }
    })
  }
}

/** One peer for the feature_map: its entity type and the features of its connection. */
export interface FeaturePeer {
  type: number
  features: bigint
}

/** feature_map: per entity type (in type order), per distinct feature set (ascending), a count. */
export function dumpFeatureMap (peers: readonly FeaturePeer[]): Json {
  const byType = new Map<number, Map<bigint, number>>()
  for (const p of peers) {
    let m = byType.get(p.type)
    if (m === undefined) byType.set(p.type, m = new Map())
    m.set(p.features, (m.get(p.features) ?? 0) + 1)
  }
  const out: { [key: string]: Json } = {}
  for (const type of [...byType.keys()].sort((a, b) => a - b)) {
    const counts = byType.get(type) ?? new Map<bigint, number>()
    out[entityTypeName(type)] = [...counts.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([f, num]) => ({ features: '0x' + f.toString(16), release: releaseFromFeatures(f), num }))
  }
  return out
}

export interface PongState {
  /** The mon's id, e.g. 'a'. */
  name: string
  rank: number
  electionEpoch: number
  /** Seconds since this mon formed its quorum (of one). */
  quorumAgeSec: number
  /** Our connection features (quorum_con). */
  features: bigint
  monmap: MonMap
  /** The mon itself and every connected peer, for the feature_map. */
  peers: readonly FeaturePeer[]
}

/** The pong document (health + mon_status), as a JS object in the real mon's key order. */
export function buildPong (s: PongState): { [key: string]: Json } {
  const monFeatures = monFeatureNames(s.monmap.persistentFeatures)
  return {
    health: { status: 'HEALTH_OK', checks: {}, mutes: [] },
    mon_status: {
      name: s.name,
      rank: s.rank,
      state: 'leader',
      election_epoch: s.electionEpoch,
      quorum: [s.rank],
      quorum_age: s.quorumAgeSec,
      features: {
        // Ceph prints these u64s as decimal strings.
        required_con: PACIFIC_REQUIRED_CON.toString(),
        required_mon: monFeatures,
        quorum_con: s.features.toString(),
        quorum_mon: monFeatures
      },
      outside_quorum: [],
      extra_probe_peers: [],
      sync_provider: [],
      monmap: dumpMonMap(s.monmap),
      feature_map: dumpFeatureMap(s.peers),
      stretch_mode: s.monmap.stretchModeEnabled
    }
  }
}

/**
 * The pong's text: Ceph's JSON formatter indents by 4 and ends with a newline, which is what
 * JSON.stringify(…, null, 4) + '\n' produces for these values.
 */
export function pongText (s: PongState): string {
  return JSON.stringify(buildPong(s), null, 4) + '\n'
}
