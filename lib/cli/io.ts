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
export function parseCommandArgs (argv: string[], io: Io, usage: string, options: NonNullable<ParseArgsConfig['options']>, allowPositionals = false): ParsedArgs | number {
  let parsed: ParsedArgs
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true })
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
