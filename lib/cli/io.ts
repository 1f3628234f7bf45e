// What every command shares: where it writes (injectable so commands run in-process in tests),
// option parsing with the same usage-error convention, and "am I the ceph-msgr process?".
import { basename } from 'node:path'
import { parseArgs } from 'node:util'
import type { ParseArgsConfig } from 'node:util'

export interface Io {
  out: (text: string) => void
  err: (text: string) => void
}

export const stdio: Io = {
  out: (text) => { process.stdout.write(text) },
  err: (text) => { process.stderr.write(text) }
}

/** Exit codes: 0 ok, 1 failure reported by the command, 2 usage error. */
export const EXIT_USAGE = 2

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
}

/**
 * Parse a command's options. A bad option prints the error and the usage (exit 2); --help prints
 * the usage (exit 0). Either way the exit code is returned instead of the parsed arguments.
 */
/**
 * `--count -1` as `--count=-1`: node's parseArgs refuses a value that starts with a dash ("argument
 * is ambiguous"), which hides the real problem; joined, the command's own check names it.
 */
export function joinNegativeValues (argv: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = argv[i + 1]
    if (a === '--') { out.push(...argv.slice(i)); break }
    let long: string | undefined
    if (a.startsWith('--') && !a.includes('=')) long = a.slice(2)
    else if (/^-[A-Za-z]$/.test(a)) long = Object.entries(options).find(([, o]) => o.short === a[1])?.[0]
    if (long !== undefined && options[long]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`--${long}=${next}`)
      i++
    } else {
      out.push(a)
    }
  }
  return out
}

export function parseCommandArgs (argv: string[], io: Io, usage: string, options: NonNullable<ParseArgsConfig['options']>, allowPositionals = false): ParsedArgs | number {
  let parsed: ParsedArgs
  try {
    const r = parseArgs({ args: joinNegativeValues(argv, options), options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true })
    parsed = { values: r.values as ParsedArgs['values'], positionals: r.positionals }
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n${usage}`)
    return EXIT_USAGE
  }
  if (parsed.values.help === true) {
    io.out(usage)
    return 0
  }
  return parsed
}

/** True when this module runs as the ceph-msgr process itself (not imported by a test). */
export function isCliProcess (): boolean {
  const script = basename(process.argv[1] ?? '')
  return script === 'ceph-msgr.js' || script === 'ceph-msgr' || script === 'main.ts'
}
