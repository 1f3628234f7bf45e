// The client side of `ceph-msgr stress`: what connection c sends (the same bytes whether it runs
// in the stress process or, with --processes, in a child of it), and the child-process protocol.
// A child is `ceph-msgr stress --role client --server ADDR --index C ...`: it sends its messages,
// waits until they are acknowledged (lossless) or written (lossy), prints one JSON line with its
// counters (a ClientReport) on stdout and exits 0. Anything else is a failed client.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Message } from '../messages/message.ts'
import { Messenger } from '../messenger/messenger.ts'
import '../messenger/tcp-messenger.ts'
import '../messenger/memory-messenger.ts'
import type { Connection } from '../messenger/connection.ts'
import { Policy } from '../session/policy.ts'
import { EntityType } from '../wire/constants.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import { formatEntityAddr } from '../wire/entity-addr.ts'
import { isCliProcess } from './io.ts'
import type { Io } from './io.ts'
import { PACKAGE_ROOT } from './package-root.ts'
import type { StressOptions } from './stress.ts'

export const STRESS_TYPE = 0x7ff0

/** How long a lossy client waits for its queue to be written before it goes. */
const LOSSY_DRAIN_MS = 2000

/** The fault counters a stress run adds up over every messenger and connection. */
export interface FaultCounters {
  reconnects: number
  faults: number
  injected_failures: number
}

/** What a client child prints: its index, how many messages it sent, and its fault counters. */
export interface ClientReport extends FaultCounters {
  index: number
  sent: number
}

/** xorshift32: the payload of message (c, i) is a pure function of (seed, c, i). */
function rng (seed: number): () => number {
  let x = (seed >>> 0) || 0x9e3779b9
  return () => {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    return x
  }
}

export function payloadFor (o: StressOptions, c: number, i: number): Uint8Array {
  const r = rng(o.seed ^ Math.imul(c + 1, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35))
  const big = o.largeEvery > 0 && r() % o.largeEvery === 0
  const lo = o.minSize
  const hi = big ? Math.max(o.largeMax, o.maxSize) : o.maxSize
  const size = lo + (r() % (hi - lo + 1))
  const out = new Uint8Array(size)
  const words = Math.floor(size / 4)
  const dv = new DataView(out.buffer)
  for (let k = 0; k < words; k++) dv.setUint32(k * 4, r(), true)
  for (let k = words * 4; k < size; k++) out[k] = r() & 0xff
  return out
}

/** The server's and the clients' policies, and the entity type the clients connect as. */
export function policiesFor (policy: StressOptions['policy']): { server: Policy, client: Policy, clientType: number } {
  switch (policy) {
    case 'lossless_peer': return { server: Policy.losslessPeer(), client: Policy.losslessPeer(), clientType: EntityType.OSD }
    case 'lossless_client': return { server: Policy.statefulServer(), client: Policy.losslessClient(), clientType: EntityType.CLIENT }
    case 'lossy_client': return { server: Policy.statelessServer(), client: Policy.lossyClient(), clientType: EntityType.CLIENT }
  }
}

/** Client c's messenger (named {clientType, c + 1}), started, and its connection to the server. */
export function openClient (o: StressOptions, c: number, addr: string | EntityAddr): { messenger: Messenger, conn: Connection } {
  const p = policiesFor(o.policy)
  const messenger = Messenger.create({ type: o.transport, name: { type: p.clientType, num: c + 1 }, policy: p.client, config: { injectSocketFailures: o.injectSocketFailures } })
  messenger.setPolicy(EntityType.OSD, p.client)
  messenger.start()
  return { messenger, conn: messenger.connectTo(EntityType.OSD, addr) }
}

/**
 * Send connection c's o.messages messages: front = (c, i) as two little-endian u32, data =
 * payloadFor(o, c, i). Stops early if the connection closes; resolves to how many were queued.
 */
export async function sendMessages (o: StressOptions, c: number, conn: Connection): Promise<number> {
  let sent = 0
  for (let i = 0; i < o.messages; i++) {
    const front = new Uint8Array(8)
    const dv = new DataView(front.buffer)
    dv.setUint32(0, c, true)
    dv.setUint32(4, i, true)
    const msg = new Message({ type: STRESS_TYPE, front, data: payloadFor(o, c, i) })
    if (conn.isClosed) break
    sent++
    if (!conn.send(msg)) await conn.drained()
  }
  return sent
}

/** A messenger's reconnects and faults (perfDump) plus the injected failures of `conns`. */
export function faultCounters (m: Messenger, conns: Iterable<Connection>): FaultCounters {
  const p = m.perfDump()
  let injected = 0
  for (const c of conns) injected += c.counters.injectedFailures
  return { reconnects: p.msgr_reconnects as number, faults: p.msgr_faults as number, injected_failures: injected }
}

export function addFaultCounters (into: FaultCounters, from: FaultCounters): void {
  into.reconnects += from.reconnects
  into.faults += from.faults
  into.injected_failures += from.injected_failures
}

// ---- the child process ----------------------------------------------------------------------

/** `--role client`: run client `index` against `server`, print its ClientReport, exit 0. */
export async function runClientProcess (o: StressOptions, server: string, index: number, io: Io): Promise<number> {
  // The parent kills a child that overruns; this covers a parent that died without doing so.
  const backstop = isCliProcess()
    ? setTimeout(() => {
      io.err(`not done after ${o.timeoutSeconds} s, giving up\n`)
      process.exit(1)
    }, o.timeoutSeconds * 1000).unref()
    : undefined
  // The messenger's timers (reconnect backoff, WAIT) are unref'd and do not hold the process
  // open: without this, a child backing off between reconnects would just exit (status 13).
  const keepAlive = setInterval(() => {}, 1000)
  try {
    const { messenger, conn } = openClient(o, index, server)
    const sent = await sendMessages(o, index, conn)
    if (o.policy === 'lossy_client') {
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([conn.flushed(), new Promise<void>((resolve) => { timer = setTimeout(resolve, LOSSY_DRAIN_MS) })])
      clearTimeout(timer)
    } else {
      await conn.flushed()
    }
    const report: ClientReport = { index, sent, ...faultCounters(messenger, [conn]) }
    await messenger.shutdown(0)
    io.out(JSON.stringify(report) + '\n')
    return 0
  } finally {
    clearInterval(keepAlive)
    clearTimeout(backstop)
  }
}

// ---- the parent's side ----------------------------------------------------------------------

const BIN = join(PACKAGE_ROOT, 'bin', 'ceph-msgr.js')

/** The command line of client child `index`: every option that shapes what it sends. */
export function clientArgs (o: StressOptions, server: EntityAddr, index: number): string[] {
  return [
    BIN, 'stress', '--role', 'client', '--server', formatEntityAddr(server), '--index', String(index),
    '--policy', o.policy, '--messages', String(o.messages), '--size', `${o.minSize}-${o.maxSize}`,
    '--large-every', String(o.largeEvery), '--large-max', String(o.largeMax),
    '--inject-socket-failures', String(o.injectSocketFailures), '--seed', String(o.seed), '--timeout', String(o.timeoutSeconds)
  ]
}

export interface ClientChild {
  /** Resolves to the child's report; rejects (with a message naming the client) if it failed. */
  readonly report: Promise<ClientReport>
  /** Kill the child (if still running); `why` becomes the rejection message. */
  kill: (why: string) => void
}

function parseReport (stdout: string, index: number): ClientReport | undefined {
  const line = stdout.trim().split('\n').pop() ?? ''
  let v: unknown
  try { v = JSON.parse(line) } catch { return undefined }
  if (typeof v !== 'object' || v === null) return undefined
  const r = v as Record<string, unknown>
  const keys = ['index', 'sent', 'reconnects', 'faults', 'injected_failures'] as const
  if (!keys.every((k) => Number.isInteger(r[k])) || r.index !== index) return undefined
  return { index, sent: r.sent as number, reconnects: r.reconnects as number, faults: r.faults as number, injected_failures: r.injected_failures as number }
}

/**
 * Start client `index` in a child process (no stdin; its stderr goes to io.err, one prefixed line
 * at a time). The report settles once the child has exited and its output is read.
 */
export function spawnClient (o: StressOptions, server: EntityAddr, index: number, io: Io): ClientChild {
  const name = `stress client ${index}`
  const child = spawn(process.execPath, clientArgs(o, server, index), { stdio: ['ignore', 'pipe', 'pipe'] })
  let killedBecause: string | undefined
  let stdout = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (s: string) => { stdout += s })
  createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => { io.err(`${name}: ${line}\n`) })
  const report = new Promise<ClientReport>((resolve, reject) => {
    let spawnError: Error | undefined
    child.on('error', (e) => { spawnError = e })
    // 'close' comes after 'exit' and after stdout and stderr have ended, also when spawning failed.
    child.on('close', (code, signal) => {
      if (spawnError !== undefined) return reject(new Error(`${name}: could not run ${process.execPath}: ${spawnError.message}`))
      if (killedBecause !== undefined) return reject(new Error(`${name} (pid ${child.pid}): ${killedBecause}; killed`))
      if (code !== 0) return reject(new Error(`${name} (pid ${child.pid}) ${signal !== null ? `died of ${signal}` : `exited with status ${code}`}`))
      const r = parseReport(stdout, index)
      if (r === undefined) return reject(new Error(`${name} (pid ${child.pid}) exited 0 without a report: ${JSON.stringify(stdout.slice(-200))}`))
      resolve(r)
    })
  })
  return {
    report,
    kill: (why) => {
      if (child.exitCode !== null || child.signalCode !== null || killedBecause !== undefined) return
      killedBecause = why
      child.kill('SIGKILL')
    }
  }
}
