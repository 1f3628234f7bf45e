// `ceph-msgr ping [MON | -m MONS] [--count N] [--interval S] [--timeout S] [--json] [--features HEX]`:
// ping a mon over msgr v1 the way `ceph ping mon.X` does (lossy client, MAuth "none", MPing) and
// print its pong; with --count, per-ping round trips and a ping(8)-style summary, redialling
// after a reset. Mon addresses take Ceph's forms (lib/config/mon-host.ts); with several, the
// first that answers is pinged. Failures: one line on stderr naming the cause, exit status 1.
import { performance } from 'node:perf_hooks'
import { isCliProcess, parseCommandArgs, stdio } from './io.ts'
import type { Io } from './io.ts'
import { PingError, parsePong } from '../mon/ping-client.ts'
import type { Pong } from '../mon/ping-client.ts'
import { createLogger, silentLogger } from '../messenger/logger.ts'
import { formatEntityAddr } from '../wire/entity-addr.ts'
import { MonHostError, Msgr2UnsupportedError } from '../config/mon-host.ts'
import { CephConfError, confGet, debugLevel, defaultConfPaths, findCephConf, loadCephConf } from '../config/ceph-conf.ts'
import type { CephConf } from '../config/ceph-conf.ts'
import { MonHunter, resolveMonTargets } from './targets.ts'
import type { ResolvedTargets } from './targets.ts'
import { formatEntityName } from '../wire/entity-name.ts'

const USAGE = `usage: ceph-msgr ping [MON] [options]

Pings a Ceph mon over msgr v1 like \`ceph ping mon.X\`: connects as a lossy client, sends the
MAuth "none" negotiation and an MPing, and prints the pong (the mon's health and mon_status).

MON is written as Ceph's mon_host is: v1:HOST:PORT, v1:HOST (port 6789), HOST:6789, HOST (Ceph
tries v2 at 3300 and v1 at 6789: v1:HOST:6789 here), an addrvec [v2:HOST:3300,v1:HOST:6789] (its
v1 entry is used), or a list of mons "a,b,c". HOST is an IP or a hostname. With several mons,
the first one that answers is pinged. msgr2 (v2:) addresses are refused: not supported yet.

Without MON or -m, the mons are ceph.conf's mon_host: the file given with -c, else $CEPH_CONF,
else the first of ${defaultConfPaths().join(', ')} that exists. Its [global], [client] and
[client.NAME] sections are read (the later override the earlier); debug_ms there sets --debug-ms.

  -m, --mon-host MONS  the mon address or list (instead of MON; overrides mon_host)
  -c, --conf FILE      the ceph.conf to read (default: $CEPH_CONF, then the paths above)
  -n, --name TYPE.ID   who we are, for ceph.conf's sections (default client.admin)
      --id ID          the same as --name client.ID
      --count N        send N pings, print each round trip and a summary (redials after a reset)
  -i, --interval S     seconds between pings with --count (default 1; 0 = flood: the next ping
                       goes as soon as the pong is in, as ping(8) -i 0 does)
  -t, --timeout S      seconds to wait for each pong, connecting included (default 10)
      --json           print only the mon's JSON document (with --count: one JSON object per line);
                       a failure prints {"ok":false,"error":KIND,"message":...,"target":...}
      --features HEX   the connection features to advertise (default 0x3f01cfbdfffdffff, Pacific's)
      --no-auth        do not send the MAuth negotiation first
      --debug-ms N     messenger log level on stderr (0 quiet … 20 every handshake step)
  -h, --help           this text

Exit status: 0 when a pong came back, 1 when none did, 2 for a usage error (a bad or
unresolvable address, a v2: address, a bad option), 130 after Ctrl-C (SIGINT) with --count:
the pending ping is abandoned and the summary printed at once.
`

export type { Io }


function positiveNumber (name: string, v: string | undefined, dflt: number, zeroOk = false): number {
  if (v === undefined) return dflt
  const n = Number(v)
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || (n === 0 && !zeroOk)) throw new TypeError(`--${name} must be a ${zeroOk ? 'number >= 0' : 'positive number'}, got '${v}'`)
  return n
}

/** Exit status after Ctrl-C (SIGINT), as shells report it: 128 + 2. */
export const EXIT_INTERRUPTED = 130

function parseFeatures (v: string | undefined): bigint | undefined {
  if (v === undefined) return undefined
  const hex = v.toLowerCase().startsWith('0x') ? v.slice(2) : v
  if (!/^[0-9a-f]{1,16}$/i.test(hex)) throw new TypeError(`--features must be a 64-bit hex number, got '${v}'`)
  return BigInt('0x' + hex)
}

/** One line about the pong's content: who answered and how it is doing. */
function describe (text: string): string {
  const doc = parsePong(text)
  if (doc === undefined) return text === '' ? 'empty pong' : `${Buffer.byteLength(text)} bytes`
  const st = doc.mon_status as Record<string, unknown> | undefined
  const health = (doc.health as Record<string, unknown> | undefined)?.status
  return [st?.name === undefined ? '' : `mon.${String(st.name)}`, st?.state, health].filter((x) => typeof x === 'string' && x !== '').join(' ')
}

function ms (v: number): string {
  return v.toFixed(3)
}

interface Stats {
  sent: number
  received: number
  rtts: number[]
  reconnects: number
}

function summary (target: string, s: Stats, elapsedMs: number): string {
  const loss = s.sent === 0 ? 0 : Math.round(100 * (s.sent - s.received) / s.sent)
  const lines = [
    `--- ${target} ping statistics ---`,
    `${s.sent} pings sent, ${s.received} pongs received, ${loss}% loss, ${s.reconnects} reconnect${s.reconnects === 1 ? '' : 's'}, time ${Math.round(elapsedMs)} ms`
  ]
  if (s.rtts.length > 0) {
    const min = Math.min(...s.rtts)
    const max = Math.max(...s.rtts)
    const avg = s.rtts.reduce((a, b) => a + b, 0) / s.rtts.length
    const mdev = Math.sqrt(s.rtts.reduce((a, b) => a + (b - avg) ** 2, 0) / s.rtts.length)
    lines.push(`rtt min/avg/max/mdev = ${ms(min)}/${ms(avg)}/${ms(max)}/${ms(mdev)} ms`)
  }
  return lines.join('\n') + '\n'
}


export async function run (argv: string[], io: Io = stdio): Promise<number> {
  const parsed = parseCommandArgs(argv, io, USAGE, {
    count: { type: 'string' },
    conf: { type: 'string', short: 'c' },
    name: { type: 'string', short: 'n' },
    id: { type: 'string' },
    'mon-host': { type: 'string', short: 'm' },
    interval: { type: 'string', short: 'i' },
    timeout: { type: 'string', short: 't' },
    json: { type: 'boolean' },
    features: { type: 'string' },
    'no-auth': { type: 'boolean' },
    'debug-ms': { type: 'string' }
  }, true)
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  let count: number | undefined
  let intervalMs: number
  let timeoutMs: number
  let features: bigint | undefined
  let debug: number | undefined
  let name = 'client.admin'
  try {
    if (positionals.length > 1) throw new TypeError(`one mon address or list (got ${positionals.length}: use commas, "a,b")`)
    if (positionals.length === 1 && values['mon-host'] !== undefined) throw new TypeError('give the mon as MON or with -m, not both')
    if (values.name !== undefined && values.id !== undefined) throw new TypeError('give --name or --id, not both')
    if (values.name !== undefined) name = values.name as string
    if (values.id !== undefined) name = `client.${values.id as string}`
    if (!/^[a-z]+\.[^\s.][^\s]*$/.test(name)) throw new TypeError(`--name must be TYPE.ID (e.g. client.admin), got '${name}'`)
    if (values.count !== undefined) {
      count = Number(values.count)
      if (!Number.isInteger(count) || count < 1) throw new TypeError(`--count must be a positive integer, got '${String(values.count)}'`)
    }
    intervalMs = positiveNumber('interval', values.interval as string | undefined, 1, true) * 1000
    timeoutMs = positiveNumber('timeout', values.timeout as string | undefined, 10) * 1000
    features = parseFeatures(values.features as string | undefined)
    if (values['debug-ms'] !== undefined) {
      debug = Number(values['debug-ms'])
      if (!Number.isInteger(debug) || debug < 0) throw new TypeError(`--debug-ms must be a level >= 0, got '${String(values['debug-ms'])}'`)
    }
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n${USAGE}`)
    return 2
  }

  const json = values.json === true
  /** A failure before or instead of a pong: a line on stderr, and with --json an object on stdout. */
  const jsonError = (kind: string, message: string, target?: string): void => {
    if (json) io.out(JSON.stringify({ ok: false, error: kind, message, ...(target !== undefined ? { target } : {}) }) + '\n')
  }
  // ceph.conf: read when there is one (named, or at a default path), like any Ceph client does.
  const where = findCephConf(values.conf as string | undefined)
  let conf: CephConf = new Map()
  if (where.path !== undefined) {
    try {
      conf = await loadCephConf(where.path)
    } catch (e) {
      const message = e instanceof CephConfError ? e.message : String(e)
      io.err(`ceph-msgr ping: ${message}\n`)
      jsonError('config', message)
      return 1
    }
  }
  if (debug === undefined) {
    const fromConf = confGet(conf, 'debug_ms', name)
    debug = debugLevel(fromConf)
    if (fromConf !== undefined && debug === undefined) io.err(`ceph-msgr ping: ignoring debug_ms = '${fromConf}' in ${String(where.path)} (expected a level, e.g. 1 or 1/5)\n`)
  }
  const monText = positionals[0] ?? (values['mon-host'] as string | undefined) ?? confGet(conf, 'mon_host', name)
  if (monText === undefined) {
    const read = where.path !== undefined ? `${where.path} has no mon_host for ${name}` : `no ceph.conf (looked for ${defaultConfPaths().join(', ')})`
    io.err(`error: need a mon address: give MON, -m MONS, or mon_host in ceph.conf (${read})\n${USAGE}`)
    return 2
  }
  let resolved: ResolvedTargets
  try {
    resolved = await resolveMonTargets(monText)
  } catch (e) {
    if (e instanceof Msgr2UnsupportedError) {
      io.err(`ceph-msgr ping: ${e.message}\n`)
      jsonError('msgr2', e.message, monText)
      return 2
    }
    if (e instanceof MonHostError && e.message.startsWith('cannot resolve')) {
      io.err(`ceph-msgr ping: ${e.message}\n`)
      jsonError('resolve', e.message, monText)
      return 2
    }
    io.err(`error: ${(e as Error).message}\n${USAGE}`)
    return 2
  }
  for (const w of resolved.warnings) io.err(`ceph-msgr ping: ${w}\n`)

  const client = new MonHunter(resolved.addrs, {
    timeoutMs,
    ...(features !== undefined ? { features } : {}),
    auth: values['no-auth'] !== true,
    logger: debug !== undefined && debug > 0 ? createLogger(debug, (line) => { io.err(line + '\n') }) : silentLogger
  })
  const targetOf = (): string => formatEntityAddr(client.target)
  const fail = (e: unknown): number => {
    const why = e instanceof PingError ? e.message : String((e as Error)?.message ?? e)
    const tried = client.candidates > 1 ? `no mon answered (${client.candidates} addresses tried), last ` : ''
    io.err(`ceph-msgr ping: ${tried}${targetOf()}: ${why}\n`)
    jsonError(e instanceof PingError ? e.kind : 'error', `${tried}${why}`, targetOf())
    return 1
  }
  let code: number
  let hung = false
  try {
    if (count === undefined) {
      try {
        const p = await client.ping()
        if (json) io.out(p.text)
        else {
          io.out(`pong from ${formatEntityName(p.from)} ${targetOf()}: time=${ms(p.rttMs)} ms${p.connectMs === undefined ? '' : ` (connect ${ms(p.connectMs)} ms)`}\n`)
          io.out(p.text.endsWith('\n') || p.text === '' ? p.text : p.text + '\n')
        }
        code = 0
      } catch (e) {
        hung = e instanceof PingError && e.kind === 'timeout'
        code = fail(e)
      }
    } else {
      const r = await pingLoop(client, targetOf, count, intervalMs, timeoutMs, json, io)
      code = r.code
      hung = r.hung
    }
  } finally {
    await client.close()
  }
  // A dial to a host that never answers cannot be cancelled (the messenger has no dial timeout),
  // and its pending socket would keep this process alive until the OS gives up: leave anyway.
  if (hung && isCliProcess()) setTimeout(() => { process.exit() }, 200).unref()
  return code
}

async function pingLoop (client: MonHunter, targetOf: () => string, count: number, intervalMs: number, timeoutMs: number, json: boolean, io: Io): Promise<{ code: number, hung: boolean }> {
  const stats: Stats = { sent: 0, received: 0, rtts: [], reconnects: 0 }
  let stop = false
  let wake: (() => void) | undefined
  // Ctrl-C: stop at once, even with a ping in flight (its pong, if it comes, is not counted).
  let interrupt: () => void = () => {}
  const interrupted = new Promise<'interrupted'>((resolve) => { interrupt = () => { resolve('interrupted') } })
  const onSignal = (): void => { stop = true; wake?.(); interrupt() }
  process.on('SIGINT', onSignal)
  const start = performance.now()
  let lastPongAt: number | undefined
  let lostSinceLastPong = 0
  let dialsAtLastPong = 0
  let lastError: PingError | undefined
  let hung = false
  if (!json) io.out(`PING ${targetOf()} (mon): ${count} ping${count === 1 ? '' : 's'}, interval ${intervalMs / 1000} s, timeout ${timeoutMs / 1000} s\n`)
  try {
    for (let seq = 1; seq <= count && !stop; seq++) {
      const sendAt = start + (seq - 1) * intervalMs
      const wait = sendAt - performance.now()
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait)
          wake = () => { clearTimeout(t); resolve() }
        })
        wake = undefined
        if (stop) break
      }
      const hadConnection = client.connection !== undefined
      stats.sent++
      let pong: Pong
      try {
        const pending = client.ping()
        pending.catch(() => {}) // abandoned on Ctrl-C: it settles when the client closes
        const r = await Promise.race([pending, interrupted])
        if (r === 'interrupted') { hung = true; break }
        pong = r
      } catch (e) {
        const pe = e instanceof PingError ? e : new PingError('reset', String(e))
        lastError = pe
        hung = pe.kind === 'timeout'
        lostSinceLastPong++
        if (json) io.out(JSON.stringify({ seq, ok: false, error: pe.kind, message: pe.message }) + '\n')
        else io.out(`seq=${seq}: no pong: ${pe.message}\n`)
        continue
      }
      const now = performance.now()
      stats.received++
      stats.rtts.push(pong.rttMs)
      hung = false
      // A pong on a connection we had to redial after a failure: report the outage.
      const reconnected = !hadConnection && client.connections > 1
      const gapMs = reconnected && lastPongAt !== undefined ? now - lastPongAt : undefined
      if (reconnected) stats.reconnects++
      if (json) {
        io.out(JSON.stringify({
          seq,
          ok: true,
          from: formatEntityName(pong.from),
          rtt_ms: pong.rttMs,
          ...(pong.connectMs !== undefined ? { connect_ms: pong.connectMs } : {}),
          ...(reconnected ? { reconnected: true, lost: lostSinceLastPong, ...(gapMs !== undefined ? { gap_ms: gapMs } : {}) } : {}),
          pong: parsePong(pong.text) ?? pong.text
        }) + '\n')
      } else {
        if (reconnected) {
          const dials = client.connections - dialsAtLastPong
          io.out(`seq=${seq}: reconnected after ${dials} dial${dials === 1 ? '' : 's'}` +
            (gapMs !== undefined ? `, gap ${(gapMs / 1000).toFixed(3)} s since the last pong` : '') +
            `, ${lostSinceLastPong} ping${lostSinceLastPong === 1 ? '' : 's'} lost\n`)
        }
        io.out(`pong from ${formatEntityName(pong.from)} ${targetOf()}: seq=${seq} time=${ms(pong.rttMs)} ms` +
          (pong.connectMs !== undefined ? ` (connect ${ms(pong.connectMs)} ms)` : '') + `  ${describe(pong.text)}\n`)
      }
      lastPongAt = now
      lostSinceLastPong = 0
      dialsAtLastPong = client.connections
    }
  } finally {
    process.off('SIGINT', onSignal)
  }
  const elapsed = performance.now() - start
  if (json) {
    io.out(JSON.stringify({ summary: true, sent: stats.sent, received: stats.received, reconnects: stats.reconnects, time_ms: elapsed, rtt_ms: stats.rtts }) + '\n')
  } else {
    io.out(summary(targetOf(), stats, elapsed))
  }
  if (stop) return { code: EXIT_INTERRUPTED, hung }
  if (stats.received === 0) {
    io.err(`ceph-msgr ping: ${targetOf()}: no pong: ${lastError?.message ?? 'interrupted'}\n`)
    return { code: 1, hung }
  }
  return { code: 0, hung }
}
