// ceph.conf as Ceph reads it (src/common/ConfUtils.cc, its boost::spirit grammar), without I/O
// except in findCephConf/loadCephConf.
//
// The dialect, and why the registry's INI parsers do not fit it (README, Dependencies):
// - `[section]` headings; a section given twice is merged, and the later value of a key wins.
// - `key = value`. Keys are words separated by blanks; a key's spelling is normalised so that
//   `mon host`, `mon_host` and `mon-host` are one key (Ceph trims it, turns each run of
//   whitespace into `_`, and treats `-` and `_` alike when it looks options up).
// - `#` and `;` start a comment anywhere on a line, also inside quotes; `\#`, `\;` (and `\` before
//   any other character) stand for the character itself.
// - A `\` at the end of a line continues the line (outside quotes).
// - A value may be quoted with "..." or '...'; nothing but a comment may follow the closing quote.
// - Values are trimmed. `$cluster`, `$name`, `$id`, `$type`, `$host`, `$pid` and other
//   metavariables are left as written: ceph-msgr reads no option that uses them.
// Ceph refuses a file that breaks these rules; so does parseCephConf (CephConfError, with its line).
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'

export class CephConfError extends Error {
  readonly line: number | undefined
  readonly file: string | undefined
  constructor (message: string, line?: number, file?: string) {
    super(`${file ?? 'ceph.conf'}${line !== undefined ? `:${line}` : ''}: ${message}`)
    this.name = 'CephConfError'
    this.line = line
    this.file = file
  }
}

/** Section name → normalised key → value. */
export type CephConf = Map<string, Map<string, string>>

/** Ceph's key spelling rules: `Mon Host`, `mon  host`, `mon-host` and `mon_host` are one key. */
export function normalizeKey (key: string): string {
  return key.trim().replace(/\s+/g, '_').replace(/-/g, '_')
}

interface Cursor { text: string, i: number, line: number }

function isBlank (c: string | undefined): boolean {
  return c === ' ' || c === '\t'
}

function isEol (c: string | undefined): boolean {
  return c === undefined || c === '\n' || c === '\r'
}

/** Skip blanks and `\`-newline continuations. */
function skipBlanks (cur: Cursor): void {
  for (;;) {
    const c = cur.text[cur.i]
    if (isBlank(c)) cur.i++
    else if (c === '\\' && (cur.text[cur.i + 1] === '\n' || (cur.text[cur.i + 1] === '\r' && cur.text[cur.i + 2] === '\n'))) {
      cur.i += cur.text[cur.i + 1] === '\r' ? 3 : 2
      cur.line++
    } else return
  }
}

/** At the end of a line (after optional blanks and a comment): consume it. Else an error. */
function endOfLine (cur: Cursor, file: string | undefined, what: string): void {
  skipBlanks(cur)
  const c = cur.text[cur.i]
  if (c === '#' || c === ';') {
    while (!isEol(cur.text[cur.i])) cur.i++
  } else if (!isEol(c)) {
    throw new CephConfError(`unexpected '${c}' after ${what}`, cur.line, file)
  }
  if (cur.text[cur.i] === '\r') cur.i++
  if (cur.text[cur.i] === '\n') { cur.i++; cur.line++ }
}

/**
 * One text character: `\x` is x (any x but a newline), `#` and `;` are not text. Returns
 * undefined where text stops (end of line, a comment, or a character in `stop`).
 */
function textChar (cur: Cursor, stop: string): string | undefined {
  const c = cur.text[cur.i]
  if (isEol(c) || c === '#' || c === ';') return undefined
  if (c === '\\') {
    const n = cur.text[cur.i + 1]
    if (isEol(n)) return undefined
    cur.i += 2
    return n
  }
  if (stop.includes(c)) return undefined
  cur.i++
  return c
}

function parseValue (cur: Cursor, file: string | undefined): string {
  skipBlanks(cur)
  const q = cur.text[cur.i]
  if (q === '"' || q === '\'') {
    const startLine = cur.line
    cur.i++
    let v = ''
    for (;;) {
      const c = textChar(cur, q)
      if (c === undefined) break
      v += c
    }
    if (cur.text[cur.i] !== q) {
      const c = cur.text[cur.i]
      throw new CephConfError(c === '#' || c === ';' ? `unescaped '${c}' inside a quoted value (write \\${c})` : `unterminated ${q}-quoted value`, startLine, file)
    }
    cur.i++
    return v
  }
  let v = ''
  for (;;) {
    skipContinuations(cur)
    const c = textChar(cur, '')
    if (c === undefined) break
    v += c
  }
  return v.trim()
}

function skipContinuations (cur: Cursor): void {
  while (cur.text[cur.i] === '\\' && (cur.text[cur.i + 1] === '\n' || (cur.text[cur.i + 1] === '\r' && cur.text[cur.i + 2] === '\n'))) {
    cur.i += cur.text[cur.i + 1] === '\r' ? 3 : 2
    cur.line++
  }
}

/** Parse ceph.conf text. `file` only names the file in errors. */
export function parseCephConf (text: string, file?: string): CephConf {
  const conf: CephConf = new Map()
  const cur: Cursor = { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, i: 0, line: 1 }
  let section: Map<string, string> | undefined
  while (cur.i < cur.text.length) {
    skipBlanks(cur)
    const c = cur.text[cur.i]
    if (isEol(c) || c === '#' || c === ';') {
      endOfLine(cur, file, 'nothing')
      continue
    }
    if (c === '[') {
      cur.i++
      let name = ''
      for (;;) {
        const ch = textChar(cur, ']')
        if (ch === undefined) break
        name += ch
      }
      if (cur.text[cur.i] !== ']') throw new CephConfError('expected \']\' to close the section name', cur.line, file)
      cur.i++
      name = name.trim()
      if (name === '') throw new CephConfError('empty section name', cur.line, file)
      section = conf.get(name)
      if (section === undefined) conf.set(name, section = new Map())
      endOfLine(cur, file, `[${name}]`)
      continue
    }
    // key = value
    const keyLine = cur.line
    let key = ''
    for (;;) {
      skipContinuations(cur)
      const ch = textChar(cur, '=[')
      if (ch === undefined) break
      key += ch
    }
    if (cur.text[cur.i] !== '=') throw new CephConfError(key.trim() === '' ? `unexpected '${cur.text[cur.i]}'` : `expected '=' after '${key.trim()}'`, keyLine, file)
    cur.i++
    const k = normalizeKey(key)
    if (k === '') throw new CephConfError('a value without a key', keyLine, file)
    if (section === undefined) throw new CephConfError(`'${key.trim()}' outside any [section]`, keyLine, file)
    const v = parseValue(cur, file)
    endOfLine(cur, file, `the value of '${key.trim()}'`)
    section.set(k, v)
  }
  return conf
}

/** The sections a daemon or client named `name` (TYPE.ID) reads, most specific first. */
export function sectionsFor (name: string): string[] {
  const dot = name.indexOf('.')
  const type = dot < 0 ? name : name.slice(0, dot)
  return dot < 0 ? [type, 'global'] : [name, type, 'global']
}

/** The value of `key` for entity `name`: [TYPE.ID] over [TYPE] over [global]. */
export function confGet (conf: CephConf, key: string, name = 'client.admin'): string | undefined {
  const k = normalizeKey(key)
  for (const s of sectionsFor(name)) {
    const v = conf.get(s)?.get(k)
    if (v !== undefined) return v
  }
  return undefined
}

/** Where ceph.conf is looked for when neither -c nor CEPH_CONF names one (Ceph's default search list, less $data_dir). */
export function defaultConfPaths (cluster = 'ceph'): string[] {
  return [`/etc/ceph/${cluster}.conf`, join(homedir(), '.ceph', `${cluster}.conf`), `${cluster}.conf`]
}

export interface ConfLocation {
  /** The file to read, or undefined when none was named and none of the defaults exists. */
  path: string | undefined
  /** Where the name came from. */
  source: 'option' | 'env' | 'default' | 'none'
}

/**
 * Which ceph.conf to read: `-c/--conf` over CEPH_CONF over the first default path that exists.
 * A file named by -c or CEPH_CONF must exist (loadCephConf says so); a missing default is no conf.
 */
export function findCephConf (option: string | undefined, env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync, defaults = defaultConfPaths()): ConfLocation {
  if (option !== undefined && option !== '') return { path: option, source: 'option' }
  const fromEnv = env.CEPH_CONF
  if (fromEnv !== undefined && fromEnv !== '') return { path: fromEnv, source: 'env' }
  const found = defaults.find((p) => exists(p))
  return found !== undefined ? { path: found, source: 'default' } : { path: undefined, source: 'none' }
}

/** Read and parse a ceph.conf (an empty map for /dev/null, as Ceph allows). */
export async function loadCephConf (path: string): Promise<CephConf> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    const code = (e as { code?: unknown }).code
    throw new CephConfError(`cannot read: ${typeof code === 'string' ? code : (e as Error).message}`, undefined, path)
  }
  return parseCephConf(text, path)
}

/** `debug_ms = 1/5` (log level / in-memory level) or `1`: the log level, or undefined when unset or bad. */
export function debugLevel (v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const m = /^\s*(\d+)(?:\s*\/\s*\d+)?\s*$/.exec(v)
  return m === null ? undefined : Number(m[1])
}
