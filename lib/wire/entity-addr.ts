// entity_addr_t, in the legacy 136-byte form the v1 banner always uses (features = 0), and the
// "v1:HOST:PORT/NONCE" text form Ceph prints. sockaddr_storage is copied raw by Ceph, except that
// the family is converted to network order: so family and port are big-endian here.
import { isIPv4, isIPv6 } from 'node:net'
import { ENTITY_ADDR_LEN } from './constants.ts'
import { ErrorCode, ProtocolError } from './errors.ts'

export const AF_UNSPEC = 0
export const AF_INET = 2
export const AF_INET6 = 10

/** entity_addr_t::type */
export const AddrType = {
  NONE: 0,
  LEGACY: 1,
  MSGR2: 2,
  ANY: 3
} as const

export interface EntityAddr {
  /** AddrType: LEGACY for v1 addresses. Not carried by the legacy wire form (which always says 0). */
  type: number
  nonce: number
  /** AF_UNSPEC, AF_INET or AF_INET6 */
  family: number
  /** Dotted IPv4 or canonical IPv6 text; '' when family is AF_UNSPEC. */
  ip: string
  port: number
  flowInfo?: number
  scopeId?: number
}

export function blankAddr (nonce = 0): EntityAddr {
  return { type: AddrType.LEGACY, nonce, family: AF_UNSPEC, ip: '', port: 0 }
}

/** True when the address has no usable IP (unspecified family or the any-address). */
export function isBlankIp (a: EntityAddr): boolean {
  return a.family === AF_UNSPEC || a.ip === '0.0.0.0' || a.ip === '::'
}

function ipv4Bytes (ip: string, out: Uint8Array, at: number): void {
  const parts = ip.split('.')
  for (let i = 0; i < 4; i++) out[at + i] = Number(parts[i]) & 0xff
}

function ipv6Bytes (ip: string, out: Uint8Array, at: number): void {
  // Expand "::" and an embedded IPv4 tail, then write eight big-endian groups.
  let s = ip
  const pct = s.indexOf('%')
  if (pct >= 0) s = s.slice(0, pct)
  let tail: number[] = []
  const lastColon = s.lastIndexOf(':')
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = s.slice(lastColon + 1).split('.').map(Number)
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]]
    s = s.slice(0, lastColon + 1) + '0'
    s = s.replace(/:0$/, ':')
    if (s.endsWith('::')) s = s + ''
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, undefined]
  const h = head === '' ? [] : head.split(':').filter((x) => x !== '').map((x) => parseInt(x, 16))
  const r = rest === undefined || rest === '' ? [] : rest.split(':').filter((x) => x !== '').map((x) => parseInt(x, 16))
  const fill = 8 - tail.length - h.length - r.length
  const groups = rest === undefined ? [...h, ...tail] : [...h, ...new Array<number>(Math.max(0, fill)).fill(0), ...r, ...tail]
  for (let i = 0; i < 8; i++) {
    const g = groups[i] ?? 0
    out[at + 2 * i] = g >> 8
    out[at + 2 * i + 1] = g & 0xff
  }
}

function formatIpv6 (b: Uint8Array, at: number): string {
  const groups: number[] = []
  for (let i = 0; i < 8; i++) groups.push((b[at + 2 * i] << 8) | b[at + 2 * i + 1])
  // Longest run of zero groups (length >= 2) becomes "::" (RFC 5952).
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart < 0) return hex.join(':')
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':')
}

/** Encode the 136-byte legacy entity_addr into `out` at `at` (zeroed by the caller or here). */
export function encodeEntityAddrInto (a: EntityAddr, out: Uint8Array, at: number): void {
  out.fill(0, at, at + ENTITY_ADDR_LEN)
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength)
  dv.setUint32(at, 0, true) // legacy marker: the type is never on the wire
  dv.setUint32(at + 4, a.nonce >>> 0, true)
  dv.setUint16(at + 8, a.family, false)
  dv.setUint16(at + 10, a.port, false)
  if (a.family === AF_INET) {
    ipv4Bytes(a.ip, out, at + 12)
  } else if (a.family === AF_INET6) {
    dv.setUint32(at + 12, (a.flowInfo ?? 0) >>> 0, false)
    ipv6Bytes(a.ip, out, at + 16)
    dv.setUint32(at + 32, (a.scopeId ?? 0) >>> 0, true)
  }
}

export function encodeEntityAddr (a: EntityAddr): Uint8Array {
  const out = new Uint8Array(ENTITY_ADDR_LEN)
  encodeEntityAddrInto(a, out, 0)
  return out
}

/** Decode a legacy entity_addr; `offset` is the stream offset used in errors. */
export function decodeEntityAddr (b: Uint8Array, at = 0, offset = at): EntityAddr {
  if (b.length - at < ENTITY_ADDR_LEN) {
    throw new ProtocolError(ErrorCode.TRUNCATED, 'entity_addr needs 136 bytes', offset)
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const marker = b[at]
  if (marker !== 0) {
    // 1 would announce the newer addr2 encoding, which never appears in a v1 banner.
    throw new ProtocolError(ErrorCode.BAD_ADDR, `legacy entity_addr marker ${marker}`, offset)
  }
  const nonce = dv.getUint32(at + 4, true)
  const family = dv.getUint16(at + 8, false)
  const port = dv.getUint16(at + 10, false)
  if (family === AF_INET) {
    const ip = `${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`
    return { type: AddrType.LEGACY, nonce, family, ip, port }
  }
  if (family === AF_INET6) {
    return {
      type: AddrType.LEGACY,
      nonce,
      family,
      ip: formatIpv6(b, at + 16),
      port,
      flowInfo: dv.getUint32(at + 12, false),
      scopeId: dv.getUint32(at + 32, true)
    }
  }
  if (family === AF_UNSPEC) return { type: AddrType.LEGACY, nonce, family, ip: '', port }
  throw new ProtocolError(ErrorCode.BAD_ADDR, `unknown address family ${family}`, offset + 8)
}

/** Ceph's text form: "v1:127.0.0.1:6789/0", "v1:[::1]:6789/0", "-" for a blank address. */
export function formatEntityAddr (a: EntityAddr, withNonce = true): string {
  const prefix = a.type === AddrType.MSGR2 ? 'v2:' : a.type === AddrType.ANY ? 'any:' : 'v1:'
  const nonce = withNonce ? `/${a.nonce}` : ''
  if (a.family === AF_INET6) return `${prefix}[${a.ip}]:${a.port}${nonce}`
  if (a.family === AF_INET) return `${prefix}${a.ip}:${a.port}${nonce}`
  return `${prefix}-${nonce}`
}

/**
 * Parse "v1:HOST:PORT[/NONCE]", "HOST:PORT", "[v6]:PORT", "v2:..." into an address.
 * Returns undefined when the text is not an address.
 */
export function parseEntityAddr (text: string, defaultPort = 0): EntityAddr | undefined {
  let s = text.trim()
  let type: number = AddrType.LEGACY
  if (s.startsWith('v1:')) s = s.slice(3)
  else if (s.startsWith('v2:')) { type = AddrType.MSGR2; s = s.slice(3) }
  else if (s.startsWith('any:')) { type = AddrType.ANY; s = s.slice(4) }
  let nonce = 0
  const slash = s.lastIndexOf('/')
  if (slash >= 0) {
    const n = Number(s.slice(slash + 1))
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) return undefined
    nonce = n
    s = s.slice(0, slash)
  }
  let host: string
  let portText: string | undefined
  if (s.startsWith('[')) {
    const close = s.indexOf(']')
    if (close < 0) return undefined
    host = s.slice(1, close)
    const after = s.slice(close + 1)
    if (after !== '' && !after.startsWith(':')) return undefined
    portText = after === '' ? undefined : after.slice(1)
  } else if (isIPv6(s)) {
    host = s
  } else {
    const colon = s.lastIndexOf(':')
    host = colon >= 0 ? s.slice(0, colon) : s
    portText = colon >= 0 ? s.slice(colon + 1) : undefined
  }
  const port = portText === undefined ? defaultPort : Number(portText)
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined
  if (isIPv4(host)) return { type, nonce, family: AF_INET, ip: host, port }
  if (isIPv6(host)) {
    const buf = new Uint8Array(16)
    ipv6Bytes(host, buf, 0)
    return { type, nonce, family: AF_INET6, ip: formatIpv6(buf, 0), port, flowInfo: 0, scopeId: 0 }
  }
  return undefined
}

/** The bytes Ceph compares (memcmp of the legacy struct) to break connection races. */
export function compareEntityAddr (a: EntityAddr, b: EntityAddr): number {
  const x = encodeEntityAddr(a)
  const y = encodeEntityAddr(b)
  for (let i = 0; i < ENTITY_ADDR_LEN; i++) {
    if (x[i] !== y[i]) return x[i] - y[i]
  }
  return 0
}

export function sameAddr (a: EntityAddr, b: EntityAddr): boolean {
  return a.family === b.family && a.ip === b.ip && a.port === b.port && a.nonce === b.nonce
}
