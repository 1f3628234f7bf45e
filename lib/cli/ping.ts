// `ceph-msgr ping v1:HOST:PORT [--count N] [--interval S] [--timeout S] [--json] [--features HEX]`:
// ping a mon over msgr v1 the way `ceph ping mon.X` does (lossy client, MAuth "none", MPing) and
// print its pong; with --count, per-ping round trips and a ping(8)-style summary, redialling
// after a reset. Failures: one line on stderr naming the cause, exit status 1.
import { performance } from 'node:perf_hooks'
import { isCliProcess, parseCommandArgs, stdio } from './io.ts'
import type { Io } from './io.ts'
import { MonPingClient, PingError, parsePong } from '../mon/ping-client.ts'
import type { Pong } from '../mon/ping-client.ts'
import { createLogger, silentLogger } from '../messenger/logger.ts'
import { formatEntityAddr, parseEntityAddr } from '../wire/entity-addr.ts'
import { formatEntityName } from '../wire/entity-name.ts'

const USAGE = `usage: ceph-msgr ping v1:HOST:PORT [options]

Pings a Ceph mon over msgr v1 like \`ceph ping mon.X\`: connects as a lossy client, sends the
MAuth "none" negotiation and an MPing, and prints the pong (the mon's health and mon_status).

  -c, --count N        send N pings, print each round trip and a summary (redials after a reset)
  -i, --interval S     seconds between pings with --count (default 1)
  -t, --timeout S      seconds to wait for each pong, connecting included (default 10)
      --json           print only the mon's JSON document (with --count: one JSON object per line)
      --features HEX   the connection features to advertise (default 0x3f01cfbdfffdffff, Pacific's)
      --no-auth        do not send the MAuth negotiation first
      --debug-ms N     messenger log level on stderr (0 quiet … 20 every handshake step)
  -h, --help           this text

Exit status: 0 when a pong came back, 1 when none did, 2 for a usage error.
`

export type { Io }


function positiveNumber (name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new TypeError(`--${name} must be a positive number, got '${v}'`)
  return n
}

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
    count: { type: 'string', short: 'c' },
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
  let debug = 0
  try {
    if (positionals.length !== 1) throw new TypeError('need exactly one mon address (v1:HOST:PORT)')
    if (parseEntityAddr(positionals[0]) === undefined) throw new TypeError(`bad address '${positionals[0]}' (expected v1:HOST:PORT)`)
    if (values.count !== undefined) {
      count = Number(values.count)
      if (!Number.isInteger(count) || count < 1) throw new TypeError(`--count must be a positive integer, got '${String(values.count)}'`)
    }
    intervalMs = positiveNumber('interval', values.interval as string | undefined, 1) * 1000
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
  const client = new MonPingClient(positionals[0], {
    timeoutMs,
    ...(features !== undefined ? { features } : {}),
    auth: values['no-auth'] !== true,
    logger: debug > 0 ? createLogger(debug) : silentLogger
  })
  const target = formatEntityAddr(client.target)
  const fail = (e: unknown): number => {
    const why = e instanceof PingError ? e.message : String((e as Error)?.message ?? e)
    io.err(`ceph-msgr ping: ${target}: ${why}\n`)
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
          io.out(`pong from ${formatEntityName(p.from)} ${target}: time=${ms(p.rttMs)} ms${p.connectMs === undefined ? '' : ` (connect ${ms(p.connectMs)} ms)`}\n`)
          io.out(p.text.endsWith('\n') || p.text === '' ? p.text : p.text + '\n')
        }
        code = 0
      } catch (e) {
        hung = e instanceof PingError && e.kind === 'timeout'
        code = fail(e)
      }
    } else {
      const r = await pingLoop(client, target, count, intervalMs, timeoutMs, json, io)
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

async function pingLoop (client: MonPingClient, target: string, count: number, intervalMs: number, timeoutMs: number, json: boolean, io: Io): Promise<{ code: number, hung: boolean }> {
  const stats: Stats = { sent: 0, received: 0, rtts: [], reconnects: 0 }
  let stop = false
  let wake: (() => void) | undefined
  const onSignal = (): void => { stop = true; wake?.() }
  process.on('SIGINT', onSignal)
  const start = performance.now()
  let lastPongAt: number | undefined
  let lostSinceLastPong = 0
  let dialsAtLastPong = 0
  let lastError: PingError | undefined
  let hung = false
  if (!json) io.out(`PING ${target} (mon): ${count} ping${count === 1 ? '' : 's'}, interval ${intervalMs / 1000} s, timeout ${timeoutMs / 1000} s\n`)
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
        pong = await client.ping()
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
        io.out(`pong from ${formatEntityName(pong.from)} ${target}: seq=${seq} time=${ms(pong.rttMs)} ms` +
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
    io.out(summary(target, stats, elapsed))
  }
  if (stats.received === 0) {
    io.err(`ceph-msgr ping: ${target}: no pong: ${lastError?.message ?? 'interrupted'}\n`)
    return { code: 1, hung }
  }
  return { code: 0, hung }
}
