// `ceph-msgr <command> [args]`: a tiny dispatcher. Each command lives in its own module, loaded
// only when it is run (so `decode` does not pay for the messenger, and vice versa), and exports
// `run(argv, io?): Promise<number>` returning the exit code. Adding a command = one line in `commands`.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { EXIT_USAGE, stdio } from './io.ts'
import { PACKAGE_ROOT } from './package-root.ts'
import type { Io } from './io.ts'

export { EXIT_USAGE, stdio }
export type { Io }

export interface CommandModule {
  /**
   * `argv` = the arguments after the command name; `io` = where to write (stdout/stderr unless a
   * test captures it). Resolves to the process exit code.
   */
  run (argv: string[], io?: Io): Promise<number>
}

export interface Command {
  summary: string
  load: () => Promise<CommandModule>
}

export const commands: Record<string, Command> = {
  decode: { summary: 'decode both directions of a recorded v1 conversation', load: () => import('./decode.ts') },
  mon: { summary: 'run a one-mon cluster (msgr v1, auth none) that answers ceph ping', load: () => import('./mon.ts') },
  ping: { summary: 'ping a mon over msgr v1 like ceph ping mon.X', load: () => import('./ping.ts') },
  stress: { summary: 'synthetic workload with fault injection: checks exactly-once in-order delivery', load: () => import('./stress.ts') }
}


/** Where the dispatcher and the commands write (injectable so they can be tested in-process). */

function usage (): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length))
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  return [
    'usage: ceph-msgr <command> [args]',
    '',
    'commands:',
    ...lines,
    '',
    'ceph-msgr <command> --help shows the options of a command.'
  ].join('\n') + '\n'
}

function version (): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: string }
  return pkg.version ?? 'unknown'
}

/** A reader that went away (`ceph-msgr decode ... | head`) ends the command quietly, like SIGPIPE would. */
function exitOnEpipe (e: NodeJS.ErrnoException): void {
  if (e.code === 'EPIPE') process.exit(0)
  throw e
}

export async function main (argv: string[], io: Io = stdio): Promise<number> {
  if (io === stdio && !process.stdout.listeners('error').includes(exitOnEpipe)) process.stdout.on('error', exitOnEpipe)
  // Options before the command belong to the dispatcher; everything after it to the command.
  const at = argv.findIndex((a) => !a.startsWith('-'))
  const own = at < 0 ? argv : argv.slice(0, at)
  let values: { help?: boolean, version?: boolean }
  try {
    values = parseArgs({
      args: own,
      options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' } },
      strict: true
    }).values
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n${usage()}`)
    return EXIT_USAGE
  }
  if (values.version === true) {
    io.out(`ceph-msgr ${version()}\n`)
    return 0
  }
  if (values.help === true || (at >= 0 && argv[at] === 'help' && argv.length === at + 1)) {
    io.out(usage())
    return 0
  }
  if (at < 0) {
    io.err(usage())
    return EXIT_USAGE
  }
  const name = argv[at]
  // `help <command>` is `<command> --help`.
  if (name === 'help') return main([argv[at + 1], '--help'], io)
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (cmd === undefined) {
    io.err(`error: unknown command '${name}'\n${usage()}`)
    return EXIT_USAGE
  }
  const mod = await cmd.load()
  return mod.run(argv.slice(at + 1), io)
}

// Also runnable directly: `node --import tsx lib/cli/main.ts decode ...`
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2))
}
