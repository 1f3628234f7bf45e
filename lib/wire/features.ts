// Ceph feature bits (src/include/ceph_features.h). Features are u64, so they are bigints here;
// they are only touched during the handshake, never on the per-message path.

/** Bit number → name, for every bit a Pacific (16.2) daemon advertises, plus the msgr-relevant ones. */
export const FEATURE_BITS: Record<string, number> = {
  UID: 0,
  NOSRCADDR: 1,
  SERVER_NAUTILUS: 2,
  FLOCK: 3,
  SUBSCRIBE2: 4,
  MONNAMES: 5,
  RECONNECT_SEQ: 6,
  DIRLAYOUTHASH: 7,
  OBJECTLOCATOR: 8,
  PGID64: 9,
  INCSUBOSDMAP: 10,
  PGPOOL3: 11,
  OSDREPLYMUX: 12,
  OSDENC: 13,
  SERVER_KRAKEN: 14,
  MONENC: 15,
  SERVER_OCTOPUS: 16,
  OS_PERF_STAT_NS: 17,
  CRUSH_TUNABLES: 18,
  OSD_PGLOG_HARDLIMIT: 19,
  SERVER_PACIFIC: 20,
  SERVER_LUMINOUS: 21,
  OSD_FIXED_COLLECTION_LIST: 22,
  MSG_AUTH: 23,
  RECOVERY_RESERVATION_2: 24,
  CRUSH_TUNABLES2: 25,
  CREATEPOOLID: 26,
  REPLY_CREATE_INODE: 27,
  SERVER_MIMIC: 28,
  MDSENC: 29,
  OSDHASHPSPOOL: 30,
  MON_SINGLE_PAXOS: 31,
  STRETCH_MODE: 32,
  SERVER_QUINCY: 33,
  RANGE_BLOCKLIST: 34,
  OSD_CACHEPOOL: 35,
  CRUSH_V2: 36,
  EXPORT_PEER: 37,
  OSD_ERASURE_CODES: 38,
  OSDMAP_ENC: 39,
  MDS_INLINE_DATA: 40,
  CRUSH_TUNABLES3: 41,
  MSGR_KEEPALIVE2: 42,
  OSD_POOLRESEND: 43,
  ERASURE_CODE_PLUGINS_V2: 44,
  OSD_SET_ALLOC_HINT: 45,
  OSD_FADVISE_FLAGS: 46,
  MDS_QUOTA: 47,
  CRUSH_V4: 48,
  NEW_OSDOP_ENCODING: 56,
  SERVER_JEWEL: 57,
  CRUSH_TUNABLES5: 58,
  MSG_ADDR2: 59,
  OSD_RECOVERY_DELETES: 60,
  CEPHX_V2: 61,
  RESERVED: 62,
  RESERVED_BROKEN: 63
}

export type FeatureName = keyof typeof FEATURE_BITS

export function feature (name: FeatureName): bigint {
  const bit = FEATURE_BITS[name]
  if (bit === undefined) throw new TypeError(`unknown feature ${String(name)}`)
  return 1n << BigInt(bit)
}

export const Feature = {
  NOSRCADDR: 1n << 1n,
  RECONNECT_SEQ: 1n << 6n,
  CRUSH_TUNABLES: 1n << 18n,
  MSG_AUTH: 1n << 23n,
  CRUSH_TUNABLES2: 1n << 25n,
  CRUSH_V2: 1n << 36n,
  MSGR_KEEPALIVE2: 1n << 42n,
  CRUSH_V4: 1n << 48n,
  MSG_ADDR2: 1n << 59n
} as const

/** What a Pacific daemon advertises (seen in real captures). */
export const PACIFIC_SUPPORTED = 0x3f01cfbdfffdffffn
/** What a Pacific mon requires from clients (CRUSH tunables bits): with fewer it replies FEATURES. */
export const PACIFIC_MON_REQUIRED_FROM_CLIENTS = 0x0401020002040000n

/** ceph-msgr's own defaults: we advertise what Pacific does; we require only what we cannot work without. */
export const DEFAULT_FEATURES_SUPPORTED = PACIFIC_SUPPORTED
export const DEFAULT_FEATURES_REQUIRED = Feature.NOSRCADDR

export function hasFeature (features: bigint, f: bigint | FeatureName): boolean {
  const mask = typeof f === 'bigint' ? f : feature(f)
  return (features & mask) === mask
}

/** The features a connection may use: those both sides support. */
export function negotiate (ours: bigint, theirs: bigint): bigint {
  return ours & theirs
}

/** The bits of `required` the peer lacks (0n when it has them all). */
export function missingFeatures (required: bigint, peer: bigint): bigint {
  return required & ~peer
}

export function featureNames (features: bigint): string[] {
  const out: string[] = []
  for (const [name, bit] of Object.entries(FEATURE_BITS)) {
    if ((features >> BigInt(bit)) & 1n) out.push(name)
  }
  return out
}

export function formatFeatures (features: bigint): string {
  return '0x' + features.toString(16)
}
