// The addresses a Messenger binds and dials, as Ceph writes them: one address ('v1:H:P',
// 'v2:H:P', 'H:P') or an addrvec ('[v2:H:P,v1:H:P]'). A client dialling an addrvec takes its v2
// entry when msgr2 is enabled (Ceph's preference), its v1 entry otherwise.
import { AddrType, formatEntityAddr, parseEntityAddr } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'

export type AddrInput = string | EntityAddr | readonly EntityAddr[]

/** Which protocols this messenger may use (ms_bind_msgr1 / ms_bind_msgr2). */
export interface ProtocolSwitches {
  msgr1: boolean
  msgr2: boolean
}

/** Parse an address or an addrvec; a TypeError names the text that is not one. */
export function parseAddrs (input: AddrInput): EntityAddr[] {
  if (typeof input !== 'string') return isList(input) ? [...input] : [input]
  const text = input.trim()
  const inner = text.startsWith('[') && text.endsWith(']') && /^\[(v1|v2|any):/.test(text) ? text.slice(1, -1) : undefined
  const parts = inner === undefined ? [text] : inner.split(',')
  const out: EntityAddr[] = []
  for (const p of parts) {
    const a = parseEntityAddr(p)
    if (a === undefined) throw new TypeError(`bad address ${p}`)
    out.push(a)
  }
  if (out.length === 0) throw new TypeError(`bad address ${text}`)
  return out
}

function isList (x: EntityAddr | readonly EntityAddr[]): x is readonly EntityAddr[] {
  return Array.isArray(x)
}

export function isMsgr2 (a: EntityAddr): boolean {
  return a.type === AddrType.MSGR2
}

/** The entry of an addrvec to dial, typed for its protocol (LEGACY or MSGR2). */
export function pickConnectAddr (addrs: readonly EntityAddr[], on: ProtocolSwitches): EntityAddr {
  if (on.msgr2) {
    const v2 = addrs.find(isMsgr2)
    if (v2 !== undefined) return v2
  }
  if (on.msgr1) {
    const v1 = addrs.find((a) => !isMsgr2(a))
    if (v1 !== undefined) return { ...v1, type: AddrType.LEGACY }
  }
  throw new TypeError(`no address in [${addrs.map((a) => formatEntityAddr(a)).join(',')}] for the enabled protocols (${enabled(on)})`)
}

/** Check that every address to bind is of an enabled protocol. */
export function checkBindAddrs (addrs: readonly EntityAddr[], on: ProtocolSwitches): void {
  for (const a of addrs) {
    if (isMsgr2(a) ? !on.msgr2 : !on.msgr1) {
      throw new TypeError(`cannot bind ${formatEntityAddr(a)}: ${isMsgr2(a) ? 'msgr2' : 'msgr1'} is disabled (${enabled(on)})`)
    }
  }
}

function enabled (on: ProtocolSwitches): string {
  return [on.msgr2 ? 'msgr2' : '', on.msgr1 ? 'msgr1' : ''].filter((s) => s !== '').join(', ') || 'none enabled'
}
