// Mon addresses as Ceph users write them (`-m`, `mon_host` in ceph.conf, `--addr`), parsed without
// I/O: hostnames stay names (the CLI resolves them), nothing is dialled.
//
// The forms, as Ceph's `parse_ip_port_vec` and `MonMap::_add_ambiguous_addr` read them:
//   v1:H:P  v2:H:P          one address of that protocol; without :P the mon's default port
//                           (6789 for v1, 3300 for v2). H is a hostname, an IPv4 or an [IPv6].
//   H:P  H                  no protocol: Ceph takes port 6789 as v1, another port as v2, and no
//                           port as "v2 at 3300, then v1 at 6789".
//   [v2:H:P,v1:H:P]         an addrvec: one mon reachable through each of its entries.
//   a,b c;d                 a list of mons (commas, spaces, semicolons or tabs between them).
// Any address may end in /NONCE.

/** Ceph's default mon ports: CEPH_MON_PORT_LEGACY and CEPH_MON_PORT_IANA. */
export const MON_PORT_V1 = 6789
export const MON_PORT_V2 = 3300

export type MonAddrType = 'v1' | 'v2' | 'any'

export interface MonHostAddr {
  /** 'any': written without a v1:/v2: prefix. */
  type: MonAddrType
  /** A hostname or an IP address (IPv6 without its brackets). */
  host: string
  /** The port written, or the protocol's default; 0 for an 'any' address written without one. */
  port: number
  nonce: number
}

/** One mon: the addresses it can be reached at (an addrvec; a plain address is a vec of one). */
export type MonAddrVec = MonHostAddr[]

export class MonHostError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'MonHostError'
  }
}

/** The error for v2 addresses until ceph-msgr speaks msgr2. */
export class Msgr2UnsupportedError extends MonHostError {
  constructor (what: string) {
    super(`msgr2 is not supported yet: ${what} (ceph-msgr speaks msgr v1; give the mon's v1 address, e.g. v1:HOST:6789)`)
    this.name = 'Msgr2UnsupportedError'
  }
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/

function validHost (h: string): boolean {
  return HOSTNAME.test(h) || (h.includes(':') && IPV6.test(h))
}

/** Format one address the way Ceph prints it: `v1:H:P/N`, `[IPv6]` bracketed, 'any' without prefix. */
export function formatMonHostAddr (a: MonHostAddr): string {
  const host = a.host.includes(':') ? `[${a.host}]` : a.host
  return `${a.type === 'any' ? '' : a.type + ':'}${host}${a.port === 0 && a.type === 'any' ? '' : ':' + String(a.port)}${a.nonce !== 0 ? '/' + String(a.nonce) : ''}`
}

/** Parse one address (no list, no addrvec). */
export function parseMonHostAddr (text: string): MonHostAddr {
  let s = text.trim()
  if (s === '') throw new MonHostError('empty address')
  let type: MonAddrType = 'any'
  const prefix = /^(v1|v2|any):/.exec(s)
  if (prefix !== null) {
    type = prefix[1] as MonAddrType
    s = s.slice(prefix[0].length)
  }
  let nonce = 0
  const slash = s.lastIndexOf('/')
  if (slash >= 0) {
    const t = s.slice(slash + 1)
    if (!/^\d+$/.test(t) || Number(t) > 0xffffffff) throw new MonHostError(`bad nonce in '${text}'`)
    nonce = Number(t)
    s = s.slice(0, slash)
  }
  let host: string
  let portText: string | undefined
  if (s.startsWith('[')) {
    const close = s.indexOf(']')
    if (close < 0) throw new MonHostError(`unclosed [ in '${text}'`)
    host = s.slice(1, close)
    const rest = s.slice(close + 1)
    if (rest !== '' && !rest.startsWith(':')) throw new MonHostError(`bad address '${text}'`)
    if (rest !== '') portText = rest.slice(1)
  } else if ((s.match(/:/g) ?? []).length > 1) {
    host = s // a bare IPv6 address: no port can follow it
  } else {
    const colon = s.indexOf(':')
    host = colon < 0 ? s : s.slice(0, colon)
    if (colon >= 0) portText = s.slice(colon + 1)
  }
  if (!validHost(host)) throw new MonHostError(`bad host '${host}' in '${text}'`)
  let port: number
  if (portText === undefined) {
    port = type === 'v1' ? MON_PORT_V1 : type === 'v2' ? MON_PORT_V2 : 0
  } else {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new MonHostError(`bad port '${portText}' in '${text}'`)
    port = Number(portText)
  }
  return { type, host, port, nonce }
}

/**
 * Parse a mon list: `mon_host` or `-m`. Returns one addrvec per mon, in the order written.
 * Throws a MonHostError naming the first bad entry.
 */
export function parseMonHost (text: string): MonAddrVec[] {
  const out: MonAddrVec[] = []
  let i = 0
  const sep = /[\s,;]/
  while (i < text.length) {
    if (sep.test(text[i])) { i++; continue }
    // An addrvec starts with '[' and a protocol prefix; '[' then a digit or ':' is a bracketed IPv6.
    if (text[i] === '[' && /^\[(v1|v2|any):/.test(text.slice(i))) {
      // Its entries may hold bracketed IPv6 hosts: find the ']' at depth 0.
      let depth = 0
      let j = i
      for (; j < text.length; j++) {
        if (text[j] === '[') depth++
        else if (text[j] === ']' && --depth === 0) break
      }
      if (j >= text.length) throw new MonHostError(`unclosed addrvec in '${text}'`)
      const inner = text.slice(i + 1, j)
      const entries = splitTopLevel(inner)
      if (entries.length === 0) throw new MonHostError(`empty addrvec in '${text}'`)
      out.push(entries.map(parseMonHostAddr))
      i = j + 1
      continue
    }
    let j = i
    let depth = 0
    for (; j < text.length; j++) {
      if (text[j] === '[') depth++
      else if (text[j] === ']') depth--
      else if (depth === 0 && sep.test(text[j])) break
    }
    out.push([parseMonHostAddr(text.slice(i, j))])
    i = j
  }
  if (out.length === 0) throw new MonHostError('no mon address given')
  return out
}

function splitTopLevel (s: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  for (let k = 0; k < s.length; k++) {
    if (s[k] === '[') depth++
    else if (s[k] === ']') depth--
    else if (s[k] === ',' && depth === 0) { parts.push(s.slice(start, k)); start = k + 1 }
  }
  parts.push(s.slice(start))
  return parts.map((p) => p.trim()).filter((p) => p !== '')
}

/**
 * Ceph's reading of an address without a protocol (`MonMap::_add_ambiguous_addr`), as the
 * addresses to try in Ceph's order: no port → v2:3300 then v1:6789; port 6789 → v1; another
 * port → v2, and (ceph-msgr's own fallback while it speaks only v1) v1 at that port after it.
 */
export function disambiguate (a: MonHostAddr): MonHostAddr[] {
  if (a.type !== 'any') return [a]
  if (a.port === 0) return [{ ...a, type: 'v2', port: MON_PORT_V2 }, { ...a, type: 'v1', port: MON_PORT_V1 }]
  if (a.port === MON_PORT_V1) return [{ ...a, type: 'v1' }]
  return [{ ...a, type: 'v2' }, { ...a, type: 'v1' }]
}

/**
 * The v1 address to dial for each mon, in order: an addrvec offering v1 uses its v1 entry. A mon
 * reachable only over v2 is left out and named in `v2Only`; when no mon is left, this throws
 * Msgr2UnsupportedError.
 */
export function v1Targets (mons: MonAddrVec[]): { targets: MonHostAddr[], v2Only: MonAddrVec[] } {
  const targets: MonHostAddr[] = []
  const v2Only: MonAddrVec[] = []
  for (const vec of mons) {
    const v1 = vec.flatMap(disambiguate).find((a) => a.type === 'v1')
    if (v1 !== undefined) targets.push(v1)
    else v2Only.push(vec)
  }
  if (targets.length === 0) {
    throw new Msgr2UnsupportedError(v2Only.map((v) => v.length === 1 ? formatMonHostAddr(v[0]) : `[${v.map(formatMonHostAddr).join(',')}]`).join(', '))
  }
  return { targets, v2Only }
}
