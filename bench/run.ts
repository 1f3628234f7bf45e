// `npm run bench [-- --quick] [--json FILE] [--only REGEX] [--profile DIR] [--no-save]`
//
// ceph-msgr against a baseline doing the same work in the same run, client and server in separate
// processes on loopback (bench/lib/worker.ts, forked with an IPC channel). Prints a table, writes
// bench/results/latest.json (and --json FILE) and bench/results/throughput.svg.
//
//   oneway-*            one-way messages/s, lossless_peer both sides, CRCs on; baseline raw `net`
//                       with 4-byte length-prefixed frames
//   rtt-p50, rtt-p99    request/response, one in flight, 64 B front, lossy client/stateless server
//   connect-ping        new connection + MPing/MPing + close, against our own mon-like server
//   connect-ping-vs-librados  the same against a real ceph-mon, baseline librados Rados.ping_monitor
//   mon-vs-ceph-mon     our client's connect + ping against our example mon, baseline the real ceph-mon
//   fanin-N             N connections sending 4 KiB messages to one server, aggregate messages/s
//   idle-conn-rss       server RSS growth per idle (handshaken) connection
//   flood-peak-rss      server RSS growth while its dispatcher is 10x slower than the sender
//
// --profile DIR runs every worker under `node --cpu-prof` (profiles in DIR, see workers.json there);
// summarise one with `node --import tsx bench/lib/prof-top.ts FILE`. BENCH_NODE_FLAGS adds node
// flags to the workers (e.g. --trace-gc). --no-save leaves bench/results alone (the spec uses it).
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, platform, release } from 'node:os'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { libradosPingLoop, libradosSkipReason, startMon } from './lib/ceph.ts'
import type { CephMon } from './lib/ceph.ts'
import type { ConnectPingResult, Endpoint, ListenParams, MemStats, OnewayResult, RoundCpu, RttResult, ServerClosed } from './lib/proto.ts'
import { fmt, ratioOf, table, throughputSvg } from './lib/report.ts'
import type { BenchReport, CaseResult, ThroughputPoint } from './lib/report.ts'
import { RESULTS_DIR } from './lib/paths.ts'
import { percentile } from './lib/util.ts'
import { Worker } from './lib/workers.ts'
import type { WorkerOptions } from './lib/workers.ts'

// --malloc-tuned: every worker, ours and raw alike, keeps freed heap memory for reuse instead of
// handing it back to the kernel. On the bench VM the first touch of a page costs 1-16 us (measured;
// a warm page ~2 ns), so glibc's default trimming turns buffer churn into page faults on both sides.
// The default run measures untuned processes; this one what a tuned deployment gets.
const MALLOC_TUNED_ENV = {
  MALLOC_TRIM_THRESHOLD_: String(256 * 1024 * 1024),
  MALLOC_TOP_PAD_: String(16 * 1024 * 1024),
  // glibc's maximum (larger values are ignored): allocations below it come from the reused heap.
  MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024)
}

const RESULTS = RESULTS_DIR
const MiB = 1024 * 1024

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    only: { type: 'string' },
    profile: { type: 'string' },
    'no-save': { type: 'boolean', default: false },
    'malloc-tuned': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (args.help === true) {
  process.stdout.write('usage: npm run bench -- [--quick] [--json FILE] [--only REGEX] [--profile DIR] [--no-save] [--malloc-tuned]\n')
  process.exit(0)
}
const quick = args.quick === true
const mallocTuned = args['malloc-tuned'] === true
const only = args.only === undefined ? undefined : new RegExp(args.only)
const profileDir = args.profile === undefined ? undefined : resolve(args.profile)
if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true })

const plan = {
  sizes: [
    { name: 'oneway-64B', size: 64, warmup: 20_000, max: 5_000_000 },
    { name: 'oneway-4KiB', size: 4096, warmup: 5_000, max: 2_000_000 },
    { name: 'oneway-64KiB', size: 64 * 1024, warmup: 500, max: 200_000 },
    { name: 'oneway-1MiB', size: MiB, warmup: 32, max: 20_000 }
  ],
  onewayTargetMs: quick ? 500 : 1500,
  // Alternating rounds (ours, raw, ours, raw, ...): medians, and the spread of the paired ratios.
  // One long round per side moved the ratio by +-0.15 between runs on the 2-core VM.
  onewayRounds: quick ? 1 : 5,
  rtt: { size: 64, warmup: quick ? 300 : 2000, count: quick ? 2000 : 20_000 },
  connectPing: { durationMs: quick ? 800 : 5000, warmup: quick ? 20 : 100 },
  librados: { durationMs: quick ? 1500 : 5000, warmup: quick ? 20 : 100 },
  fanin: { connections: quick ? 100 : 1000, perConnection: quick ? 200 : 200, size: 4096 },
  idle: { connections: quick ? 1000 : 10_000 },
  flood: { size: MiB, totalBytes: quick ? 256 * MiB : 1024 * MiB, throttleBytes: 100 * MiB, slowdown: 10 }
}

const fanName = `fanin-${plan.fanin.connections}`
const want = (name: string): boolean => only === undefined || only.test(name)
const results: CaseResult[] = []
const t0 = performance.now()
const log = (s: string): void => { process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${s}\n`) }

// ---- workers ----------------------------------------------------------------------------------

const workers: Worker[] = []
async function spawnWorker (role: 'server' | 'client', impl: 'ours' | 'raw', opts: WorkerOptions = {}): Promise<Worker> {
  const w = await Worker.start(role, impl, { ...opts, ...(profileDir !== undefined ? { profileDir } : {}), ...(mallocTuned ? { env: MALLOC_TUNED_ENV } : {}) })
  workers.push(w)
  return w
}

const needThroughput = [...plan.sizes.map((s) => s.name), 'rtt-p50', 'rtt-p99', 'connect-ping', 'mon-vs-ceph-mon', fanName].some(want)
const needLibrados = want('connect-ping-vs-librados') || want('mon-vs-ceph-mon')
const needIdle = want('idle-conn-rss')
const needFlood = want('flood-peak-rss')
const libradosSkip = needLibrados ? libradosSkipReason() : undefined

// Starting a tsx process takes seconds here: start everything at once, the ceph-mon too.
const monP: Promise<CephMon | Error> | undefined = needLibrados && libradosSkip === undefined
  ? startMon().catch((e: unknown) => e instanceof Error ? e : new Error(String(e)))
  : undefined
const [serverOurs, serverRaw, clientOurs, clientRaw, idleOurs, idleRaw, floodOurs] = await Promise.all([
  needThroughput ? spawnWorker('server', 'ours') : undefined,
  needThroughput ? spawnWorker('server', 'raw') : undefined,
  needThroughput || needLibrados || needIdle || needFlood ? spawnWorker('client', 'ours') : undefined,
  needThroughput || needIdle ? spawnWorker('client', 'raw') : undefined,
  needIdle ? spawnWorker('server', 'ours', { exposeGc: true }) : undefined,
  needIdle ? spawnWorker('server', 'raw', { exposeGc: true }) : undefined,
  needFlood ? spawnWorker('server', 'ours', { exposeGc: true }) : undefined
])
log(`workers ready: ${workers.map((w) => w.label).join(', ')}`)
if (profileDir !== undefined) {
  writeFileSync(resolve(profileDir, 'workers.json'), JSON.stringify(workers.map((w) => ({ pid: w.pid, role: w.role, impl: w.impl })), null, 2) + '\n')
}

function need (w: Worker | undefined): Worker {
  if (w === undefined) throw new Error('worker not started')
  return w
}

/** listen on `server`, run `op` on `client`, close the server. */
async function withServer<T> (server: Worker, params: ListenParams, run: (ep: Endpoint) => Promise<T>): Promise<T> {
  return (await withServerRound(server, params, run)).value
}

/** Like withServer, also returning the server's CPU for its last START..DONE round. */
async function withServerRound<T> (server: Worker, params: ListenParams, run: (ep: Endpoint) => Promise<T>): Promise<{ value: T, round: RoundCpu | null, closed: ServerClosed }> {
  const ep = await server.call<Endpoint>({ op: 'listen', params })
  let value: T
  try {
    value = await run(ep)
  } catch (e) {
    await server.call({ op: 'close' }).catch(() => {})
    throw e
  }
  const closed = await server.call<ServerClosed>({ op: 'close' })
  return { value, round: closed.round, closed }
}

/** CPU µs (user + system) per message of a round. */
function cpuPerMsg (r: RoundCpu | null | undefined, which: 'all' | 'sys' = 'all'): number {
  if (r === null || r === undefined || r.messages === 0) return NaN
  const ms = which === 'sys' ? r.systemMs : r.userMs + r.systemMs
  return Math.round(ms * 1000 / r.messages * 100) / 100
}

/** The CPU columns of a throughput case: µs per message, sender and receiver, ours and raw. */
function cpuExtra (ours: { value: OnewayResult, round: RoundCpu | null }, raw: { value: OnewayResult, round: RoundCpu | null }): Record<string, number> {
  return {
    ours_tx_cpu_us: cpuPerMsg(ours.value.cpu),
    ours_rx_cpu_us: cpuPerMsg(ours.round),
    raw_tx_cpu_us: cpuPerMsg(raw.value.cpu),
    raw_rx_cpu_us: cpuPerMsg(raw.round),
    // The kernel's share (system time) of the above: sockets and copies, not JS.
    ours_tx_sys_us: cpuPerMsg(ours.value.cpu, 'sys'),
    ours_rx_sys_us: cpuPerMsg(ours.round, 'sys'),
    raw_tx_sys_us: cpuPerMsg(raw.value.cpu, 'sys'),
    raw_rx_sys_us: cpuPerMsg(raw.round, 'sys')
  }
}

async function attempt (names: string[], unit: string, baselineName: string, body: () => Promise<void>): Promise<void> {
  if (!names.some(want)) return
  log(`${names.join(', ')} ...`)
  try {
    await body()
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').slice(0, 400)
    log(`${names.join(', ')} FAILED: ${msg}`)
    for (const name of names) {
      if (want(name) && !results.some((r) => r.name === name)) {
        results.push({ name, unit, ours: null, baseline: null, baseline_name: baselineName, ratio: null, note: `error: ${msg}` })
      }
    }
  }
}

function push (c: Omit<CaseResult, 'ratio'> & { ratio?: number | null }): void {
  if (!want(c.name)) return
  results.push({ ...c, ratio: c.ratio !== undefined ? c.ratio : ratioOf(c.ours, c.baseline) })
}

const perSec = (n: number, ms: number): number => n / (ms / 1000)

/** The element whose key is the median (the lower one of an even count). */
function medianBy<T> (xs: T[], key: (x: T) => number): T {
  const sorted = [...xs].sort((a, b) => key(a) - key(b))
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

// ---- 1. one-way throughput --------------------------------------------------------------------

const points: ThroughputPoint[] = []
const onewayOurs = new Map<number, OnewayResult>()
for (const s of plan.sizes) {
  await attempt([s.name], 'msg/s', 'raw TCP', async () => {
    const params = (endpoint: Endpoint): { endpoint: Endpoint, size: number, targetMs: number, warmupMessages: number, maxMessages: number } =>
      ({ endpoint, size: s.size, targetMs: plan.onewayTargetMs, warmupMessages: s.warmup, maxMessages: s.max })
    type Round = Awaited<ReturnType<typeof withServerRound<OnewayResult>>>
    const oursRounds: Round[] = []
    const rawRounds: Round[] = []
    for (let r = 0; r < plan.onewayRounds; r++) {
      oursRounds.push(await withServerRound(need(serverOurs), { mode: 'sink' }, (ep) => need(clientOurs).call<OnewayResult>({ op: 'oneway', params: params(ep) })))
      rawRounds.push(await withServerRound(need(serverRaw), { mode: 'sink' }, (ep) => need(clientRaw).call<OnewayResult>({ op: 'oneway', params: params(ep) })))
    }
    const rate = (r: Round): number => perSec(r.value.messages, r.value.elapsedMs)
    const oursR = medianBy(oursRounds, rate)
    const rawR = medianBy(rawRounds, rate)
    const pairRatios = oursRounds.map((o, i) => rate(o) / rate(rawRounds[i]))
    const ours = oursR.value
    const raw = rawR.value
    onewayOurs.set(s.size, ours)
    const om = rate(oursR)
    const rm = rate(rawR)
    const oMB = perSec(ours.bytes, ours.elapsedMs) / 1e6
    const rMB = perSec(raw.bytes, raw.elapsedMs) / 1e6
    points.push({ label: s.name.replace('oneway-', ''), ours: oMB, raw: rMB, oursMsgs: om, rawMsgs: rm })
    const spread: Record<string, number> = plan.onewayRounds > 1 ? { rounds: plan.onewayRounds, ratio_min: Math.min(...pairRatios), ratio_max: Math.max(...pairRatios) } : {}
    push({ name: s.name, unit: 'msg/s', ours: om, baseline: rm, baseline_name: 'raw TCP', extra: { ours_MBps: oMB, raw_MBps: rMB, ours_msgs: ours.messages, raw_msgs: raw.messages, ...spread, ...cpuExtra(oursR, rawR) } })
  })
}

// ---- 1b. the queued dispatch path (DispatchQueue, sync and async dispatchers) beside fast dispatch

for (const [name, mode] of [['oneway-4KiB-queued', 'sink-queued'], ['oneway-4KiB-queued-async', 'sink-queued-async']] as const) {
  await attempt([name], 'msg/s', 'ours, fast dispatch', async () => {
    const fast = onewayOurs.get(4096)
    const params = (endpoint: Endpoint): { endpoint: Endpoint, size: number, targetMs: number, warmupMessages: number, maxMessages: number } =>
      ({ endpoint, size: 4096, targetMs: plan.onewayTargetMs, warmupMessages: 5_000, maxMessages: 2_000_000 })
    const rounds: Array<Awaited<ReturnType<typeof withServerRound<OnewayResult>>>> = []
    for (let r = 0; r < Math.min(plan.onewayRounds, 3); r++) {
      rounds.push(await withServerRound(need(serverOurs), { mode }, (ep) => need(clientOurs).call<OnewayResult>({ op: 'oneway', params: params(ep) })))
    }
    const best = medianBy(rounds, (r) => perSec(r.value.messages, r.value.elapsedMs))
    const q = best.value
    push({
      name,
      unit: 'msg/s',
      ours: perSec(q.messages, q.elapsedMs),
      baseline: fast === undefined ? null : perSec(fast.messages, fast.elapsedMs),
      baseline_name: 'ours, fast dispatch (oneway-4KiB)',
      // Receiver CPU per message: where the queue's cost shows (the sender does the same work).
      extra: { ours_msgs: q.messages, rounds: rounds.length, ours_rx_cpu_us: cpuPerMsg(best.round) }
    })
  })
}

// ---- 3b. against a real ceph-mon: before the cases that leave thousands of sockets in TIME_WAIT

await attempt(['connect-ping-vs-librados', 'mon-vs-ceph-mon'], 'ping/s', 'librados ping_monitor', async () => {
  if (libradosSkip !== undefined || monP === undefined) {
    push({ name: 'connect-ping-vs-librados', unit: 'ping/s', ours: null, baseline: null, baseline_name: 'librados ping_monitor', note: `skipped: ${libradosSkip ?? 'not run'}` })
    push({ name: 'mon-vs-ceph-mon', unit: 'ping/s', ours: null, baseline: null, baseline_name: 'real ceph-mon', note: `skipped: ${libradosSkip ?? 'not run'}` })
    return
  }
  const mon = await monP
  if (mon instanceof Error) throw mon
  try {
    const endpoint: Endpoint = { host: '127.0.0.1', port: mon.v1Port, addr: mon.v1Addr }
    const lib = await libradosPingLoop(mon, plan.librados.warmup, plan.librados.durationMs)
    const ours = await need(clientOurs).call<ConnectPingResult>({ op: 'connect-ping', params: { endpoint, durationMs: plan.librados.durationMs, warmup: plan.librados.warmup } })
    push({
      name: 'connect-ping-vs-librados',
      unit: 'ping/s',
      ours: perSec(ours.pings, ours.elapsedMs),
      baseline: perSec(lib.pings, lib.elapsedMs),
      baseline_name: 'librados ping_monitor',
      extra: { ours_pings: ours.pings, librados_pings: lib.pings, librados_errors: lib.errors ?? 0, ours_client_cpu_us: ours.cpuMs === undefined || ours.totalPings === undefined ? NaN : Math.round(ours.cpuMs * 1000 / ours.totalPings) },
      ...((lib.errors ?? 0) > 0 ? { note: `${lib.errors} librados ping_monitor call(s) timed out; the librados rate leaves out the time spent in them` } : {})
    })
    if (want('mon-vs-ceph-mon')) {
      // Who serves pings faster: the same client (ours) against our example mon (`npm start`,
      // lib/mon) right after the real ceph-mon above.
      const mine = await withServerRound(need(serverOurs), { mode: 'monitor' }, (ep) =>
        need(clientOurs).call<ConnectPingResult>({ op: 'connect-ping', params: { endpoint: ep, durationMs: plan.librados.durationMs, warmup: plan.librados.warmup } }))
      push({
        name: 'mon-vs-ceph-mon',
        unit: 'ping/s',
        ours: perSec(mine.value.pings, mine.value.elapsedMs),
        baseline: perSec(ours.pings, ours.elapsedMs),
        baseline_name: 'real ceph-mon',
        extra: { ours_mon_pings: mine.value.pings, ceph_mon_pings: ours.pings, ours_mon_cpu_us: mine.value.totalPings === undefined ? NaN : Math.round(mine.closed.cpuMs * 1000 / mine.value.totalPings) },
        note: 'our client connecting + pinging; our mon example vs a real ceph-mon 16.2'
      })
    }
  } finally {
    await mon.stop()
  }
})

// ---- 2. round trip ----------------------------------------------------------------------------

await attempt(['rtt-p50', 'rtt-p99'], 'us', 'raw TCP', async () => {
  // Rounds alternate ours and raw, so a noisy stretch of the machine lands on both; percentiles
  // are taken over all samples of each side.
  const rounds = plan.onewayRounds
  const params = (endpoint: Endpoint): { endpoint: Endpoint, size: number, warmup: number, count: number } =>
    ({ endpoint, size: plan.rtt.size, warmup: plan.rtt.warmup, count: Math.ceil(plan.rtt.count / rounds) })
  const oursTimes: number[] = []
  const rawTimes: number[] = []
  const p50Ratios: number[] = []
  for (let r = 0; r < rounds; r++) {
    const o = await withServer(need(serverOurs), { mode: 'echo' }, (ep) => need(clientOurs).call<RttResult>({ op: 'rtt', params: params(ep) }))
    const w = await withServer(need(serverRaw), { mode: 'echo' }, (ep) => need(clientRaw).call<RttResult>({ op: 'rtt', params: params(ep) }))
    oursTimes.push(...o.times)
    rawTimes.push(...w.times)
    p50Ratios.push(o.p50 / w.p50)
  }
  const ours = percentile(oursTimes)
  const raw = percentile(rawTimes)
  const spread: Record<string, number> = rounds > 1 ? { rounds, p50_ratio_min: Math.min(...p50Ratios), p50_ratio_max: Math.max(...p50Ratios) } : {}
  const extra = { samples: ours.count, ours_mean_us: ours.mean, raw_mean_us: raw.mean, ...spread }
  push({ name: 'rtt-p50', unit: 'us', ours: ours.p50, baseline: raw.p50, baseline_name: 'raw TCP', extra, note: 'lower is better' })
  push({ name: 'rtt-p99', unit: 'us', ours: ours.p99, baseline: raw.p99, baseline_name: 'raw TCP', note: 'lower is better' })
})

// ---- 3. connection setup ----------------------------------------------------------------------

await attempt(['connect-ping'], 'ping/s', 'raw TCP', async () => {
  const params = (endpoint: Endpoint): { endpoint: Endpoint, durationMs: number, warmup: number } => ({ endpoint, ...plan.connectPing })
  const oursR = await withServerRound(need(serverOurs), { mode: 'mon' }, (ep) => need(clientOurs).call<ConnectPingResult>({ op: 'connect-ping', params: params(ep) }))
  const rawR = await withServerRound(need(serverRaw), { mode: 'mon' }, (ep) => need(clientRaw).call<ConnectPingResult>({ op: 'connect-ping', params: params(ep) }))
  const ours = oursR.value
  const raw = rawR.value
  const perPing = (cpuMs: number | undefined, n: number | undefined): number => cpuMs === undefined || n === undefined ? NaN : Math.round(cpuMs * 1000 / n)
  push({
    name: 'connect-ping',
    unit: 'ping/s',
    ours: perSec(ours.pings, ours.elapsedMs),
    baseline: perSec(raw.pings, raw.elapsedMs),
    baseline_name: 'raw TCP',
    extra: {
      ours_pings: ours.pings,
      raw_pings: raw.pings,
      ours_client_cpu_us: perPing(ours.cpuMs, ours.totalPings),
      ours_server_cpu_us: perPing(oursR.closed.cpuMs, ours.totalPings),
      raw_client_cpu_us: perPing(raw.cpuMs, raw.totalPings),
      raw_server_cpu_us: perPing(rawR.closed.cpuMs, raw.totalPings)
    }
  })
})

// ---- 4. fan-in --------------------------------------------------------------------------------

await attempt([fanName], 'msg/s', 'raw TCP', async () => {
  const params = (endpoint: Endpoint): { endpoint: Endpoint, connections: number, messagesPerConnection: number, size: number } =>
    ({ endpoint, connections: plan.fanin.connections, messagesPerConnection: plan.fanin.perConnection, size: plan.fanin.size })
  const oursR = await withServerRound(need(serverOurs), { mode: 'sink' }, (ep) => need(clientOurs).call<OnewayResult>({ op: 'fanin', params: params(ep) }))
  const rawR = await withServerRound(need(serverRaw), { mode: 'sink' }, (ep) => need(clientRaw).call<OnewayResult>({ op: 'fanin', params: params(ep) }))
  const ours = oursR.value
  const raw = rawR.value
  push({
    name: fanName,
    unit: 'msg/s',
    ours: perSec(ours.messages, ours.elapsedMs),
    baseline: perSec(raw.messages, raw.elapsedMs),
    baseline_name: 'raw TCP',
    extra: { ours_MBps: perSec(ours.bytes, ours.elapsedMs) / 1e6, raw_MBps: perSec(raw.bytes, raw.elapsedMs) / 1e6, messages: ours.messages, ours_rx_cpu_us: cpuPerMsg(oursR.round), raw_rx_cpu_us: cpuPerMsg(rawR.round) }
  })
})

// ---- 5. memory --------------------------------------------------------------------------------

interface IdleMem {
  perConn: number
  heapPerConn: number
  externalPerConn: number
  conns: number
}

async function idleRss (server: Worker, client: Worker): Promise<IdleMem> {
  return await withServer(server, { mode: 'idle' }, async (endpoint) => {
    const before = await server.call<MemStats>({ op: 'mem', gc: true })
    await client.call({ op: 'idle-open', params: { endpoint, connections: plan.idle.connections } }, 300_000)
    try {
      await new Promise((resolve) => { setTimeout(resolve, 200) })
      const after = await server.call<MemStats>({ op: 'mem', gc: true })
      if (after.connections < plan.idle.connections) throw new Error(`server holds ${after.connections} of ${plan.idle.connections} connections`)
      const n = after.connections
      return {
        perConn: (after.rss - before.rss) / n,
        heapPerConn: (after.heapUsed - before.heapUsed) / n,
        externalPerConn: (after.external - before.external) / n,
        conns: n
      }
    } finally {
      await client.call({ op: 'idle-close' }, 120_000)
    }
  })
}

await attempt(['idle-conn-rss'], 'bytes', 'raw TCP', async () => {
  const ours = await idleRss(need(idleOurs), need(clientOurs))
  const raw = await idleRss(need(idleRaw), need(clientRaw))
  push({ name: 'idle-conn-rss', unit: 'bytes', ours: Math.round(ours.perConn), baseline: Math.round(raw.perConn), baseline_name: 'raw TCP', extra: { connections: ours.conns, ours_heap: Math.round(ours.heapPerConn), ours_external: Math.round(ours.externalPerConn), raw_heap: Math.round(raw.heapPerConn), raw_external: Math.round(raw.externalPerConn) }, note: 'server RSS growth / connections, after GC' })
})

await attempt(['flood-peak-rss'], 'bytes', 'dispatch throttle', async () => {
  const oneway = onewayOurs.get(MiB)
  const senderRate = oneway !== undefined ? perSec(oneway.bytes, oneway.elapsedMs) : 500e6
  const rate = senderRate / plan.flood.slowdown
  const server = need(floodOurs)
  const r = await withServer(server, { mode: 'flood', dispatchBytesPerSec: rate }, async (endpoint) => {
    const before = await server.call<MemStats>({ op: 'mem', gc: true })
    const sent = await need(clientOurs).call<OnewayResult>({ op: 'flood', params: { endpoint, size: plan.flood.size, totalBytes: plan.flood.totalBytes } }, 600_000)
    const after = await server.call<MemStats>({ op: 'mem', gc: false })
    return { before, after, sent }
  })
  const peak = Math.max(r.after.sampledPeakRss, r.after.maxRss)
  push({
    name: 'flood-peak-rss',
    unit: 'bytes',
    ours: peak - r.before.rss,
    baseline: plan.flood.throttleBytes,
    baseline_name: 'dispatch throttle',
    extra: { peak_rss: peak, idle_rss: r.before.rss, peak_array_buffers: r.after.sampledPeakArrayBuffers, peak_heap: r.after.sampledPeakHeapUsed, sent_MB: r.sent.bytes / 1e6, dispatch_MBps: rate / 1e6, seconds: r.sent.elapsedMs / 1000 },
    note: 'server peak RSS minus its idle RSS'
  })
})

// ---- output -----------------------------------------------------------------------------------

await Promise.all(workers.map((w) => w.stop()))
const cpuList = cpus()
const report: BenchReport = {
  node: process.version,
  cpu: `${cpuList[0]?.model ?? 'unknown'} x${cpuList.length}`,
  platform: `${platform()} ${release()}`,
  quick,
  malloc_tuned: mallocTuned,
  date: new Date().toISOString(),
  duration_s: Math.round((performance.now() - t0) / 100) / 10,
  cases: results
}
process.stdout.write(`\nceph-msgr bench (${quick ? 'quick' : 'full'}${mallocTuned ? ', malloc tuned' : ''}), node ${report.node}, ${report.cpu}\n\n`)
process.stdout.write(table(results))
process.stdout.write(`\nratio = ours / baseline (for rtt lower is better; for memory, bytes); ${report.duration_s} s\n`)

const json = JSON.stringify(report, null, 2) + '\n'
if (args.json !== undefined) {
  mkdirSync(dirname(resolve(args.json)), { recursive: true })
  writeFileSync(resolve(args.json), json)
}
// A partial run (--only) does not replace the last complete results; nor does --no-save (tests).
if (only === undefined && args['no-save'] !== true) {
  mkdirSync(RESULTS, { recursive: true })
  const stem = mallocTuned ? 'latest-malloc-tuned' : 'latest'
  writeFileSync(resolve(RESULTS, `${stem}.json`), json)
  if (!mallocTuned) writeFileSync(resolve(RESULTS, 'throughput.svg'), throughputSvg(points, `lossless_peer, CRCs on, loopback, separate processes; node ${report.node}, ${report.cpu}${quick ? ', --quick' : ''}`))
} else {
  log('bench/results left as they were')
}
if (profileDir !== undefined) log(`CPU profiles in ${profileDir} (workers.json maps pid → worker)`)
log(`done: ${results.length} cases, ${fmt(report.duration_s)} s`)
