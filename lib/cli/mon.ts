// `ceph-msgr mon [--addr v1:HOST:PORT] [--name ID] [--fsid UUID] [--metrics HOST:PORT] [--debug-ms N]`:
// run a one-mon "cluster" that answers `ceph ping` (and our ping) like a Pacific mon with auth
// none. Prints one line on stdout when it listens; SIGINT/SIGTERM drain, close and exit 0.
import { isCliProcess, parseCommandArgs, stdio } from './io.ts'
import type { Io } from './io.ts'
import { MonitorMetrics, serveMetrics } from '../mon/metrics.ts'
import type { MetricsServer } from '../mon/metrics.ts'
import { DEFAULT_MON_ADDR, Monitor } from '../mon/monitor.ts'
import { createLogger } from '../messenger/logger.ts'
import { formatEntityAddr } from '../wire/entity-addr.ts'
import { MON_PORT_V1, MonHostError, Msgr2UnsupportedError, formatMonHostAddr, parseMonHost } from '../config/mon-host.ts'
import { resolveMonTargets } from './targets.ts'

const USAGE = `usage: ceph-msgr mon [options]

Runs a single Ceph monitor speaking msgr v1 with auth none: it answers MAuth (with MAuthReply and
its monmap), MPing (with a pong shaped like a real Pacific mon's) and MMonGetMap.

      --addr v1:HOST:PORT   where to listen (default ${DEFAULT_MON_ADDR}; v1:HOST:0 = any free
                            port; HOST may be a name; v1:HOST and HOST mean port 6789).
                            msgr v1 only: a v2: address is refused
      --name ID             the mon's id: mon.ID, rank 0 (default a; 'mon.a' works too)
      --fsid UUID           the cluster fsid (default: a random one, like monmaptool --create)
      --metrics HOST:PORT   serve Prometheus metrics at http://HOST:PORT/metrics
      --debug-ms N          log level on stderr (0 errors only, 1 warnings, 5 info, 10 debug, 20 trace)
  -h, --help                this text

Prints "mon.ID listening on v1:HOST:PORT/0" when ready. SIGINT or SIGTERM shut it down (exit 0).
`

export type { Io }


const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function parseHostPort (v: string): { host: string, port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(v)
  const port = m === null ? NaN : Number(m[3])
  if (m === null || port > 65535) throw new TypeError(`--metrics must be HOST:PORT, got '${v}'`)
  return { host: m[1] ?? m[2], port }
}


/**
 * The v1 address to bind for `--addr`: one address in any of Ceph's forms, hostnames resolved
 * (the first address). An address or addrvec naming v2 is refused: this mon serves v1 only and
 * must not answer v1 where msgr2 was asked for.
 */
async function bindAddress (text: string): Promise<string> {
  const mons = parseMonHost(text)
  if (mons.length !== 1) throw new MonHostError(`--addr takes one address, got ${mons.length}`)
  const vec = mons[0]
  const v2 = vec.filter((a) => a.type === 'v2')
  if (v2.length > 0) throw new Msgr2UnsupportedError(`${v2.map(formatMonHostAddr).join(',')} (ceph-msgr mon serves msgr v1 only)`)
  const a = vec[0]
  // No protocol written: this mon speaks v1; without a port, Ceph's v1 port.
  const port = a.type === 'any' && a.port === 0 ? MON_PORT_V1 : a.port
  const { addrs } = await resolveMonTargets(`v1:${a.host.includes(':') ? `[${a.host}]` : a.host}:${port}`)
  return addrs[0]
}

/** Runs until SIGINT/SIGTERM (or `stopSignal` resolves, for in-process use); resolves to the exit code. */
export async function run (argv: string[], io: Io = stdio, stopSignal?: Promise<unknown>): Promise<number> {
  const parsed = parseCommandArgs(argv, io, USAGE, {
    addr: { type: 'string' },
    name: { type: 'string' },
    fsid: { type: 'string' },
    metrics: { type: 'string' },
    'debug-ms': { type: 'string' }
  })
  if (typeof parsed === 'number') return parsed
  const { values } = parsed
  let id: string
  let metrics: { host: string, port: number } | undefined
  let debug = 0
  const addrText = (values.addr as string | undefined) ?? DEFAULT_MON_ADDR
  let addr: string
  const fsid = values.fsid as string | undefined
  try {
    addr = await bindAddress(addrText)
    id = ((values.name as string | undefined) ?? 'a').replace(/^mon\./, '')
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new TypeError(`bad --name '${String(values.name)}'`)
    if (fsid !== undefined && !UUID.test(fsid)) throw new TypeError(`bad --fsid '${fsid}' (expected a uuid)`)
    if (values.metrics !== undefined) metrics = parseHostPort(values.metrics as string)
    if (values['debug-ms'] !== undefined) {
      debug = Number(values['debug-ms'])
      if (!Number.isInteger(debug) || debug < 0) throw new TypeError(`--debug-ms must be a level >= 0, got '${String(values['debug-ms'])}'`)
    }
  } catch (e) {
    if (e instanceof Msgr2UnsupportedError || (e instanceof MonHostError && e.message.startsWith('cannot resolve'))) {
      io.err(`ceph-msgr mon: ${e.message}\n`)
      return 2
    }
    io.err(`error: ${(e as Error).message}\n${USAGE}`)
    return 2
  }

  const mon = new Monitor({ id, addr, ...(fsid !== undefined ? { fsid } : {}), logger: createLogger(debug) })
  // Listen for signals before binding: a supervisor may signal as soon as we print the address.
  let signalled: (sig: string) => void = () => {}
  const stopped = new Promise<string>((resolve) => { signalled = resolve })
  const onSignal = (sig: NodeJS.Signals): void => { signalled(sig) }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let server: MetricsServer | undefined
  try {
    let bound
    try {
      bound = await mon.init()
    } catch (e) {
      io.err(`ceph-msgr mon: cannot listen on ${addr}: ${(e as Error).message}\n`)
      await mon.shutdown(0)
      return 1
    }
    if (metrics !== undefined) {
      try {
        const exposition = new MonitorMetrics(mon, { defaultMetrics: true })
        server = await serveMetrics(metrics.host, metrics.port, () => exposition.metrics())
      } catch (e) {
        io.err(`ceph-msgr mon: cannot serve metrics on ${String(values.metrics)}: ${(e as Error).message}\n`)
        await mon.shutdown(0)
        return 1
      }
    }
    io.out(`mon.${id} listening on ${formatEntityAddr(bound)}\n`)
    if (server !== undefined) io.err(`mon.${id}: metrics at ${server.url}\n`)
    const sig = await Promise.race([stopped, ...(stopSignal !== undefined ? [stopSignal.then(() => 'stop')] : [])])
    if (debug > 0) io.err(`mon.${id}: ${sig}, shutting down\n`)
    await server?.close()
    await mon.shutdown()
    return 0
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    // Everything is closed; if some stray handle still holds the loop, do not hang the exit.
    if (isCliProcess()) setTimeout(() => { process.exit() }, 1000).unref()
  }
}
