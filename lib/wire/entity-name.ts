// ceph_entity_name: u8 type + s64 num (−1 = not yet assigned, printed "client.?").
import { ENTITY_NAME_LEN, entityTypeFromName, entityTypeName } from './constants.ts'

export interface EntityName {
  type: number
  /** s64 on the wire; kept as a number (ids beyond 2^53 do not occur). */
  num: number
}

export function encodeEntityNameInto (n: EntityName, out: Uint8Array, at: number): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength)
  out[at] = n.type
  dv.setBigInt64(at + 1, BigInt(n.num), true)
}

export function encodeEntityName (n: EntityName): Uint8Array {
  const out = new Uint8Array(ENTITY_NAME_LEN)
  encodeEntityNameInto(n, out, 0)
  return out
}

export function decodeEntityName (b: Uint8Array, at = 0): EntityName {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return { type: b[at], num: Number(dv.getBigInt64(at + 1, true)) }
}

/** "mon.0", "client.?" (num −1), "client.4112". */
export function formatEntityName (n: EntityName): string {
  return `${entityTypeName(n.type)}.${n.num < 0 ? '?' : n.num}`
}

/** Parse "mon.a"-style names into a type and an id string; "client.4112" gives num 4112. */
export function parseEntityName (text: string): { type: number, id: string, num: number } | undefined {
  const dot = text.indexOf('.')
  if (dot <= 0) return undefined
  const type = entityTypeFromName(text.slice(0, dot))
  if (type === undefined) return undefined
  const id = text.slice(dot + 1)
  const n = Number(id)
  return { type, id, num: Number.isInteger(n) ? n : -1 }
}
