// Ceph keyring files as ceph-authtool writes them (ceph src/auth/KeyRing.cc decode_plaintext, over
// the ConfFile parser):
//
//   [client.admin]
//   	key = AQAi7BRr...==
//   	caps mon = "allow *"
//
// `#` and `;` start comments (also after a value), section names are entity names ("type.id";
// "mon." has an empty id), `[global]` is skipped, key names treat `_` and spaces alike and runs of
// whitespace as one, values may be double-quoted. Known settings: `key`, `caps <service>`, `auid`
// (ignored, as Ceph does since Nautilus); anything else is an error, as in Ceph.
//
// Errors give line numbers only: a mistyped line may hold a secret.
import { inspect } from 'node:util'
import { entityTypeFromName, entityTypeName } from '../wire/constants.ts'
import type { AuthEntityName } from './cephx-messages.ts'
import { CryptoKey } from './crypto-key.ts'
import { AuthError, AuthErrorCode, isAuthError } from './errors.ts'

export interface KeyringEntry {
  entity: AuthEntityName
  key: CryptoKey
  /** Service name ("mon", "osd", ...) → capability text. */
  caps: Map<string, string>
}

export class Keyring {
  readonly #entries = new Map<string, KeyringEntry>()

  /** Add or replace an entity. */
  set (entry: KeyringEntry): void {
    this.#entries.set(formatAuthEntityName(entry.entity), entry)
  }

  /** Look up "client.admin" or an entity name. */
  get (name: string | AuthEntityName): KeyringEntry | undefined {
    return this.#entries.get(typeof name === 'string' ? name : formatAuthEntityName(name))
  }

  /** The entity names, in insertion order. */
  names (): string[] {
    return [...this.#entries.keys()]
  }

  get size (): number {
    return this.#entries.size
  }

  /** Keyring text; it holds the secrets. */
  format (): string {
    let out = ''
    for (const [name, e] of this.#entries) {
      out += `[${name}]\n\tkey = ${e.key.toBase64()}\n`
      for (const [svc, cap] of e.caps) out += `\tcaps ${svc} = "${cap.replace(/(["\\])/g, '\\$1')}"\n`
    }
    return out
  }

  toString (): string {
    return `Keyring(${this.names().join(', ')})`
  }

  toJSON (): { entities: string[] } {
    return { entities: this.names() }
  }

  [inspect.custom] (): string {
    return this.toString()
  }
}

/** "client.admin" for {type 8, id "admin"}. */
export function formatAuthEntityName (n: AuthEntityName): string {
  return `${entityTypeName(n.type)}.${n.id}`
}

/** EntityName::from_str: "type.id" with a known type; undefined otherwise. */
export function parseAuthEntityName (text: string): AuthEntityName | undefined {
  const dot = text.indexOf('.')
  if (dot <= 0) return undefined
  const type = entityTypeFromName(text.slice(0, dot))
  if (type === undefined || type === 0xff) return undefined
  return { type, id: text.slice(dot + 1) }
}

function bad (line: number, what: string): AuthError {
  return new AuthError(AuthErrorCode.BAD_KEYRING, `line ${line}: ${what}`)
}

/** Cut a comment that starts outside double quotes. */
function stripComment (line: string): string {
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c === '\\' && quoted) i++
    else if (c === '"') quoted = !quoted
    else if (!quoted && (c === '#' || c === ';')) return line.slice(0, i)
  }
  return line
}

/** A trimmed value with one pair of surrounding double quotes removed (and \" \\ unescaped). */
function unquote (value: string, line: number): string {
  if (!value.startsWith('"')) return value
  if (value.length < 2 || !value.endsWith('"')) throw bad(line, 'unterminated quoted value')
  return value.slice(1, -1).replace(/\\(.)/g, '$1')
}

interface Pending {
  line: number
  entity: AuthEntityName
  key?: CryptoKey
  caps: Map<string, string>
}

function finish (p: Pending | undefined, ring: Keyring): void {
  if (p === undefined) return
  if (p.key === undefined) throw bad(p.line, 'section has no key')
  const existing = ring.get(p.entity)
  // ConfFile merges repeated sections; later settings win.
  const caps = new Map([...(existing?.caps ?? []), ...p.caps])
  ring.set({ entity: p.entity, key: p.key, caps })
}

export function parseKeyring (text: string): Keyring {
  const ring = new Keyring()
  let cur: Pending | undefined
  let skipping = false
  const lines = text.split(/\r\n|\n|\r/)
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1
    const line = stripComment(lines[i]).trim()
    if (line === '') continue
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw bad(lineNo, 'malformed section header')
      finish(cur, ring)
      cur = undefined
      const name = line.slice(1, -1).trim()
      skipping = name === 'global'
      if (skipping) continue
      const entity = parseAuthEntityName(name)
      if (entity === undefined) throw bad(lineNo, 'section name is not an entity name')
      const existing = ring.get(entity)
      cur = { line: lineNo, entity, key: existing?.key, caps: new Map() }
      continue
    }
    const eq = line.indexOf('=')
    if (eq <= 0) throw bad(lineNo, 'expected "name = value"')
    if (skipping) continue
    if (cur === undefined) throw bad(lineNo, 'setting outside a section')
    const name = line.slice(0, eq).trim().replace(/_/g, ' ').replace(/\s+/g, ' ')
    const value = unquote(line.slice(eq + 1).trim(), lineNo)
    if (name === 'key') {
      try {
        cur.key = CryptoKey.fromBase64(value)
      } catch (e) {
        if (isAuthError(e)) throw bad(lineNo, 'invalid key')
        throw e
      }
    } else if (name.startsWith('caps ') && name.length > 5) {
      cur.caps.set(name.slice(5), value)
    } else if (name !== 'auid') {
      throw bad(lineNo, 'unknown setting')
    }
  }
  finish(cur, ring)
  return ring
}
