// Constants of Ceph's msgr2.1 ("rev1") wire protocol: banner, msgr2 feature bits, frame tags and
// the fixed sizes of the crc and secure framings (linux net/ceph/messenger_v2.c, ceph frames_v2.h).

/** "ceph v2\n": the 8 bytes every msgr2 banner starts with. */
export const BANNER_PREFIX = new TextEncoder().encode('ceph v2\n')
/** What a msgr v1 peer sends instead ("ceph v027", no newline). */
export const V1_BANNER = new TextEncoder().encode('ceph v027')
/** u16 payload_len follows the prefix; the payload is supported + required features (2 x u64). */
export const BANNER_PAYLOAD_LEN = 16
/** prefix (8) + u16 payload_len + payload (16) = 26 bytes. */
export const BANNER_LEN = 8 + 2 + BANNER_PAYLOAD_LEN
/** A peer may announce a longer payload (future fields); more than this is refused. */
export const BANNER_PAYLOAD_MAX = 4096

/** msgr2 feature bits, exchanged in the banner (not the CEPH_FEATURE_* bits of the idents). */
export const Msgr2Feature = {
  /** msgr2.1 framing: segment-0 crc after segment 0, inline data in the secure preamble block. */
  REVISION_1: 1n << 0n,
  /** On-wire compression (Quincy+): never advertised here, Pacific has none. */
  COMPRESSION: 1n << 1n
} as const

export const Tag = {
  HELLO: 1,
  AUTH_REQUEST: 2,
  AUTH_BAD_METHOD: 3,
  AUTH_REPLY_MORE: 4,
  AUTH_REQUEST_MORE: 5,
  AUTH_DONE: 6,
  AUTH_SIGNATURE: 7,
  CLIENT_IDENT: 8,
  SERVER_IDENT: 9,
  IDENT_MISSING_FEATURES: 10,
  SESSION_RECONNECT: 11,
  SESSION_RESET: 12,
  SESSION_RETRY: 13,
  SESSION_RETRY_GLOBAL: 14,
  SESSION_RECONNECT_OK: 15,
  WAIT: 16,
  MESSAGE: 17,
  KEEPALIVE2: 18,
  KEEPALIVE2_ACK: 19,
  ACK: 20
} as const
export type TagValue = typeof Tag[keyof typeof Tag]
export type TagName = keyof typeof Tag

const tagNames: string[] = []
for (const [k, v] of Object.entries(Tag)) tagNames[v] = k

/** Tags 1..20. COMPRESSION_REQUEST/DONE (21, 22) do not exist in Pacific and are unknown here. */
export function isKnownTag (tag: number): tag is TagValue {
  return tag >= Tag.HELLO && tag <= Tag.ACK
}

export function tagName (tag: number): string {
  return tagNames[tag] ?? `UNKNOWN(${tag})`
}

/** epilogue late_status: the low nibble says whether the sender finished or aborted the frame. */
export const LateStatus = {
  COMPLETE: 0x0e,
  ABORTED: 0x01,
  MASK: 0x0f
} as const

/** AUTH_REQUEST methods and AUTH_DONE connection modes. */
export const AuthMethod = { NONE: 1, CEPHX: 2 } as const
export const ConMode = { CRC: 1, SECURE: 2 } as const

export const MAX_SEGMENTS = 4
/** Segment roles of a MESSAGE frame. */
export const Segment = { HEADER: 0, FRONT: 1, MIDDLE: 2, DATA: 3 } as const
/** Receive-buffer alignments Ceph announces per segment index (the data segment is page aligned). */
export const SEGMENT_ALIGNS: readonly number[] = [8, 8, 8, 4096]

export const PREAMBLE_LEN = 32
/** The preamble crc covers its first 28 bytes. */
export const PREAMBLE_CRC_AT = 28
export const CRC_LEN = 4
/** crc mode epilogue: u8 late_status + 3 x u32 crc (segments 1..3). */
export const EPILOGUE_CRC_LEN = 13

export const GCM_TAG_LEN = 16
export const GCM_BLOCK_LEN = 16
/** Bytes of segment 0 carried in the first secure block, after the preamble. */
export const INLINE_LEN = 48
/** The first secure block: preamble + inline bytes, encrypted, plus its tag. */
export const PREAMBLE_SECURE_LEN = PREAMBLE_LEN + INLINE_LEN + GCM_TAG_LEN
/** secure mode epilogue block: u8 late_status + 15 zero bytes. */
export const EPILOGUE_SECURE_LEN = 16

/** connection_secret length in secure mode: key (16) + rx nonce (12) + tx nonce (12) + 24 unused. */
export const CONNECTION_SECRET_LEN = 64
export const GCM_KEY_LEN = 16
export const GCM_NONCE_LEN = 12

/** ceph_msg_header2 on the wire. */
export const HEADER2_LEN = 41

/** Round up to the GCM block size. */
export function pad16 (n: number): number {
  return (n + 15) & ~15
}
