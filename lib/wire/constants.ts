// Constants of Ceph's msgr v1 wire protocol (src/include/msgr.h, ceph_fs.h).

/** The 9-byte banner both sides send first; no NUL, no newline. */
export const BANNER = 'ceph v027'
export const BANNER_BYTES = new TextEncoder().encode(BANNER)
export const BANNER_LEN = 9

export const MON_PORT_LEGACY = 6789
export const MON_PORT = 3300

/** One-byte tags: connect_reply tags and open-session frame tags share the space. */
export const Tag = {
  READY: 1,
  RESETSESSION: 2,
  WAIT: 3,
  RETRY_SESSION: 4,
  RETRY_GLOBAL: 5,
  CLOSE: 6,
  MSG: 7,
  ACK: 8,
  KEEPALIVE: 9,
  BADPROTOVER: 10,
  BADAUTHORIZER: 11,
  FEATURES: 12,
  SEQ: 13,
  KEEPALIVE2: 14,
  KEEPALIVE2_ACK: 15,
  CHALLENGE_AUTHORIZER: 16
} as const
export type TagValue = typeof Tag[keyof typeof Tag]

const tagNames: string[] = []
for (const [k, v] of Object.entries(Tag)) tagNames[v] = k
export function tagName (tag: number): string {
  return tagNames[tag] ?? `UNKNOWN(${tag})`
}

export const EntityType = {
  MON: 0x01,
  MDS: 0x02,
  OSD: 0x04,
  CLIENT: 0x08,
  MGR: 0x10,
  AUTH: 0x20,
  ANY: 0xff
} as const
export type EntityTypeValue = typeof EntityType[keyof typeof EntityType]

const entityTypeNames: Record<number, string> = { 1: 'mon', 2: 'mds', 4: 'osd', 8: 'client', 0x10: 'mgr', 0x20: 'auth', 0xff: 'any' }
export function entityTypeName (t: number): string {
  return entityTypeNames[t] ?? `type${t}`
}
export function entityTypeFromName (name: string): number | undefined {
  for (const [k, v] of Object.entries(entityTypeNames)) if (v === name) return Number(k)
  return undefined
}

export const Priority = {
  LOW: 64,
  DEFAULT: 127,
  HIGH: 196,
  HIGHEST: 255
} as const

/** ceph_msg_connect.flags / connect_reply.flags */
export const CONNECT_LOSSY = 1

export const FooterFlag = {
  COMPLETE: 1,
  NOCRC: 2,
  SIGNED: 4
} as const

export const AuthProtocol = {
  UNKNOWN: 0,
  NONE: 1,
  CEPHX: 2
} as const

/** protocol_version values in ceph_msg_connect (ceph_fs.h and the daemons' headers). */
export const ProtocolVersion = {
  MONC: 15,
  OSDC: 24,
  MDSC: 32,
  MON: 13,
  OSD: 10
} as const

export const MsgType = {
  SHUTDOWN: 1,
  PING: 2,
  MON_MAP: 4,
  MON_GET_MAP: 5,
  STATFS: 13,
  STATFS_REPLY: 14,
  MON_SUBSCRIBE: 15,
  MON_SUBSCRIBE_ACK: 16,
  AUTH: 17,
  AUTH_REPLY: 18,
  MON_GET_VERSION: 19,
  MON_GET_VERSION_REPLY: 20,
  OSD_MAP: 41,
  OSD_OP: 42,
  OSD_OPREPLY: 43,
  MON_COMMAND: 50,
  MON_COMMAND_ACK: 51
} as const

const msgTypeNames: string[] = []
for (const [k, v] of Object.entries(MsgType)) msgTypeNames[v] = k
export function msgTypeName (type: number): string {
  return msgTypeNames[type] ?? `type${type}`
}

// Fixed sizes on the wire.
export const ENTITY_ADDR_LEN = 136
export const ENTITY_NAME_LEN = 9
export const CONNECT_LEN = 33
export const CONNECT_REPLY_LEN = 26
export const HEADER_LEN = 53
export const HEADER_CRC_LEN = 49
export const FOOTER_LEN = 21
export const FOOTER_OLD_LEN = 13
export const TIMESPEC_LEN = 8
/** Client side: banner + server addr + our addr as the server sees it. */
export const SERVER_HELLO_LEN = BANNER_LEN + 2 * ENTITY_ADDR_LEN
