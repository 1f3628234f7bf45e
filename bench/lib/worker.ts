// A bench worker process: `node --import tsx bench/lib/worker.ts <server|client> <ours|raw>`,
// forked by bench/run.ts with an IPC channel. It serves requests (see proto.ts) until told to exit,
// so one process runs many cases (starting a tsx process costs seconds here); the memory cases get
// fresh server processes. Only the 'ours' workers load ceph-msgr.
//
// With BENCH_PROFILE_DIR set, each case is CPU-profiled on its own (a server from listen to close,
// a client for one op) into BENCH_PROFILE_DIR/<impl>-<role>-<n>-<case>.cpuprofile.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import type { Impl, MemStats, Reply, Request, Role, ServerClosed } from './proto.ts'
import type { ServerHandle } from './util.ts'

const [role, impl] = process.argv.slice(2) as [Role, Impl]
if ((role !== 'server' && role !== 'client') || (impl !== 'ours' && impl !== 'raw') || process.send === undefined) {
  process.stderr.write('usage: (forked by bench/run.ts) worker.ts <server|client> <ours|raw>\n')
  process.exit(2)
}

const ours = impl === 'ours' ? await import('./ours.ts') : undefined
const raw = impl === 'raw' ? await import('./raw.ts') : undefined

let server: ServerHandle | undefined

const profileDir = process.env.BENCH_PROFILE_DIR
let session: Session | undefined
let profiled = 0

async function profileStart (): Promise<void> {
  if (profileDir === undefined) return
  if (session === undefined) {
    session = new Session()
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 200 })
  }
  await session.post('Profiler.start')
}

async function profileStop (what: string): Promise<void> {
  if (profileDir === undefined || session === undefined) return
  const { profile } = await session.post('Profiler.stop')
  writeFileSync(join(profileDir, `${impl}-${role}-${++profiled}-${what}.cpuprofile`), JSON.stringify(profile))
}

let serverMode = ''
let listenCpu = process.cpuUsage()
let listenAt = 0

function gc (): void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g !== undefined) { g(); g() }
}

function mem (): MemStats {
  const m = process.memoryUsage()
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    maxRss: process.resourceUsage().maxRSS * 1024,
    sampledPeakRss: server?.sampledPeakRss() ?? 0,
    sampledPeakArrayBuffers: server?.sampledPeaks().arrayBuffers ?? 0,
    sampledPeakHeapUsed: server?.sampledPeaks().heapUsed ?? 0,
    connections: server?.connections() ?? 0
  }
}

function need<T> (x: T | undefined): T {
  if (x === undefined) throw new Error(`not available in a ${impl} worker`)
  return x
}

const CLIENT_OPS = new Set(['oneway', 'rtt', 'connect-ping', 'fanin', 'idle-open', 'flood'])

async function handle (r: Request): Promise<unknown> {
  if (!CLIENT_OPS.has(r.op)) return await handleOp(r)
  await profileStart()
  try {
    return await handleOp(r)
  } finally {
    await profileStop(r.op)
  }
}

async function handleOp (r: Request): Promise<unknown> {
  switch (r.op) {
    case 'listen':
      if (server !== undefined) await closeServer()
      await profileStart()
      serverMode = r.params.mode
      listenCpu = process.cpuUsage()
      listenAt = performance.now()
      server = impl === 'ours' ? await need(ours).oursListen(r.params) : await need(raw).rawListen(r.params)
      return server.endpoint
    case 'mem':
      if (r.gc) {
        gc()
        await new Promise((resolve) => { setTimeout(resolve, 50) })
        gc()
      }
      return mem()
    case 'close': {
      const round = server?.lastRound() ?? null
      const cpu = process.cpuUsage(listenCpu)
      const closed: ServerClosed = { round, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - listenAt }
      await closeServer()
      return closed
    }
    case 'oneway':
      return impl === 'ours' ? await need(ours).oursOneway(r.params) : await need(raw).rawOneway(r.params)
    case 'rtt':
      return impl === 'ours' ? await need(ours).oursRtt(r.params) : await need(raw).rawRtt(r.params)
    case 'connect-ping':
      return impl === 'ours' ? await need(ours).oursConnectPing(r.params) : await need(raw).rawConnectPing(r.params)
    case 'fanin':
      return impl === 'ours' ? await need(ours).oursFanin(r.params) : await need(raw).rawFanin(r.params)
    case 'idle-open':
      return impl === 'ours' ? await need(ours).oursIdleOpen(r.params) : await need(raw).rawIdleOpen(r.params)
    case 'idle-close':
      return impl === 'ours' ? await need(ours).oursIdleClose() : need(raw).rawIdleClose()
    case 'flood':
      return await need(ours).oursFlood(r.params)
    case 'exit':
      await closeServer()
      setImmediate(() => { process.exit(0) })
      return null
  }
}

async function closeServer (): Promise<void> {
  if (server === undefined) return
  await server.close()
  server = undefined
  await profileStop(serverMode)
}

function reply (x: Reply): void {
  process.send?.(x)
}

process.on('message', (r: Request) => {
  handle(r).then(
    (value) => { reply({ id: r.id, ok: true, value: value ?? null }) },
    (e: unknown) => { reply({ id: r.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }) }
  )
})
// The parent going away ends us too.
process.on('disconnect', () => { process.exit(0) })
process.send({ ready: true, pid: process.pid })
