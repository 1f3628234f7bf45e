// `ceph-msgr stress`: a synthetic workload in the spirit of Ceph's SyntheticInject tests. One
// server and N client connections; every message carries (connection, index) in its front and a
// payload derived from them, so the receiver can check exactly-once, in-order, byte-identical
// delivery without keeping copies. Socket failures and dispatch delays can be injected. With
// --processes each client connection runs in a child process of its own (lib/cli/stress-client.ts).
import { Messenger } from '../messenger/messenger.ts'
import '../messenger/tcp-messenger.ts'
import '../messenger/memory-messenger.ts'
import { EntityType } from '../wire/constants.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import { EXIT_USAGE, parseCommandArgs, stdio } from './io.ts'
import type { Io } from './io.ts'
import {
  STRESS_TYPE, addFaultCounters, faultCounters, openClient, payloadFor, policiesFor, runClientProcess, sendMessages, spawnClient
} from './stress-client.ts'
import type { FaultCounters } from './stress-client.ts'

export interface StressOptions {
  policy: 'lossless_peer' | 'lossless_client' | 'lossy_client'
  connections: number
  messages: number
  minSize: number
  maxSize: number
  /** One message in `largeEvery` gets a size up to largeMax (0 = never). */
  largeEvery: number
  largeMax: number
  injectSocketFailures: number
  injectDelayProbability: number
  injectDelayMax: number
  transport: 'tcp' | 'memory'
  timeoutSeconds: number
  seed: number
  /** Run each client connection in a child process (tcp only); the server stays in this one. */
  processes?: boolean
}

export interface StressResult {
  policy: string
  connections: number
  sent: number
  delivered: number
  duplicates: number
  out_of_order: number
  corrupt: number
  lost: number
  reconnects: number
  faults: number
  injected_failures: number
  injected_delays: number
  bytes: number
  seconds: number
  ok: boolean
}

const USAGE = `usage: ceph-msgr stress [options]

One server and N client connections; every message is checked on arrival for exactly-once,
in-order, byte-identical delivery while socket failures and dispatch delays are injected.

  --policy P                    lossless_peer (default), lossless_client or lossy_client
  --connections N               client connections (default 4)
  --messages M                  messages per connection (default 1000)
  --size MIN-MAX                message data size, e.g. 1-4096 (default), 1-64KiB
  --large-every K               one message in K gets a size up to --large-max (default 0 = never)
  --large-max SIZE              (default 1MiB)
  --inject-socket-failures K    fail a socket about once every K socket operations (default 0 = off)
  --inject-delay-probability P  delay a dispatch with probability P (default 0)
  --inject-delay-max S          longest injected delay in seconds (default 0.05)
  --transport tcp|memory        (default tcp)
  --processes                   run each client connection in a child process (tcp only); the
                                server stays in this process and adds up the children's counters
  --timeout S                   give up waiting for deliveries after S seconds (default 300); with
                                --processes, client processes still running by then are killed
  --seed N                      payload seed (default 1)
  --json                        print the result as one JSON object
  -h, --help                    this text

Exit status: 0 when every check passed, 1 when one failed (or a client process did), 2 for a usage error.
`

function equal (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

/** The clients of a run, whichever way they ran. */
interface Clients {
  /** Messages sent on each connection; undefined for a client process that failed. */
  sent: Array<number | undefined>
  /** A client process failed (already reported on io.err): the run fails. */
  failed: boolean
  /** The clients' fault counters, as of the call (call it before shutdown()). */
  counters: () => FaultCounters[]
  shutdown: () => Promise<void>
}

/** Run the clients in this process, one messenger each, all sending at once. */
async function runLocalClients (o: StressOptions, addr: EntityAddr): Promise<Clients> {
  const clients = Array.from({ length: o.connections }, (_, c) => openClient(o, c, addr))
  return {
    sent: await Promise.all(clients.map(async ({ conn }, c) => await sendMessages(o, c, conn))),
    failed: false,
    counters: () => clients.map(({ messenger, conn }) => faultCounters(messenger, [conn])),
    shutdown: async () => { await Promise.all(clients.map(async ({ messenger }) => { await messenger.shutdown(0) })) }
  }
}

/**
 * Run each client in a child process and wait for all of them (killing any still running at
 * `deadline`, and the rest as soon as one fails). Failures are written to io.err.
 */
async function runClientProcesses (o: StressOptions, addr: EntityAddr, deadline: number, io: Io): Promise<Clients> {
  const children = Array.from({ length: o.connections }, (_, c) => spawnClient(o, addr, c, io))
  const timer = setTimeout(() => {
    for (const ch of children) ch.kill(`not done within ${o.timeoutSeconds} s`)
  }, Math.max(0, deadline - performance.now()))
  const outcomes = await Promise.allSettled(children.map(async (ch, c) => {
    try {
      return await ch.report
    } catch (e) {
      for (const other of children) if (other !== ch) other.kill(`stopped because client ${c} failed`)
      throw e
    }
  }))
  clearTimeout(timer)
  const sent: Array<number | undefined> = []
  const counters: FaultCounters[] = []
  for (const [c, out] of outcomes.entries()) {
    if (out.status === 'fulfilled') {
      sent[c] = out.value.sent
      counters.push(out.value)
    } else {
      io.err(`ceph-msgr stress: ${(out.reason as Error).message}\n`)
    }
  }
  return { sent, failed: outcomes.some((out) => out.status === 'rejected'), counters: () => counters, shutdown: async () => {} }
}

export async function runStress (o: StressOptions, io: Io = stdio): Promise<StressResult> {
  const t0 = performance.now()
  const lossless = o.policy !== 'lossy_client'
  const policies = policiesFor(o.policy)
  if (o.processes === true && o.transport !== 'tcp') throw new TypeError('stress: client processes need the tcp transport')
  const server = Messenger.create({
    type: o.transport,
    name: { type: EntityType.OSD, num: 0 },
    policy: policies.server,
    config: {
      injectSocketFailures: o.injectSocketFailures,
      ...(o.injectDelayProbability > 0 ? { injectDelay: { probability: o.injectDelayProbability, maxSeconds: o.injectDelayMax } } : {}),
      limits: { maxDataLen: Math.max(o.maxSize, o.largeMax) + 1 }
    }
  })
  server.setPolicy(policies.clientType, policies.server)
  const expected = new Array<number>(o.connections).fill(0)
  const deliveredBy = new Array<number>(o.connections).fill(0)
  const r: StressResult = {
    policy: o.policy, connections: o.connections, sent: 0, delivered: 0, duplicates: 0, out_of_order: 0, corrupt: 0, lost: 0,
    reconnects: 0, faults: 0, injected_failures: 0, injected_delays: 0, bytes: 0, seconds: 0, ok: false
  }
  let progress = 0
  let allDone: () => void = () => {}
  const done = new Promise<void>((resolve) => { allDone = resolve })
  const total = o.connections * o.messages
  server.addDispatcherTail({
    msCanFastDispatch: (m) => m.type === STRESS_TYPE,
    msFastDispatch: (m) => {
      const dv = new DataView(m.front.buffer, m.front.byteOffset, m.front.byteLength)
      const c = dv.getUint32(0, true)
      const i = dv.getUint32(4, true)
      progress++
      if (c >= o.connections) { r.corrupt++; return }
      if (i < expected[c]) { r.duplicates++; return }
      if (i > expected[c]) r.out_of_order++
      expected[c] = i + 1
      if (!equal(m.data, payloadFor(o, c, i))) r.corrupt++
      r.delivered++
      deliveredBy[c]++
      r.bytes += m.data.length
      if (r.delivered >= total) allDone()
    }
  })
  server.start()
  const addr = await server.bind('v1:127.0.0.1:0')
  const clients = o.processes === true
    ? await runClientProcesses(o, addr, t0 + o.timeoutSeconds * 1000, io)
    : await runLocalClients(o, addr)
  // A failed client process sent an unknown number of messages: count those that arrived.
  r.sent = deliveredBy.reduce((a, n, c) => a + (clients.sent[c] ?? n), 0)
  // Wait for everything (lossless), or until nothing has moved for a while (lossy).
  const deadline = performance.now() + o.timeoutSeconds * 1000
  let last = -1
  let idleSince = performance.now()
  while (!clients.failed && r.delivered < r.sent && performance.now() < deadline) {
    const tick = new Promise<void>((resolve) => { setTimeout(resolve, 100) })
    await Promise.race([done, tick])
    if (progress !== last) { last = progress; idleSince = performance.now() }
    if (!lossless && performance.now() - idleSince > 2000) break
  }
  addFaultCounters(r, faultCounters(server, server.connections))
  for (const c of clients.counters()) addFaultCounters(r, c)
  r.injected_delays = server.router.counters.injectedDelays
  r.lost = r.sent - r.delivered
  r.seconds = (performance.now() - t0) / 1000
  r.ok = !clients.failed && r.corrupt === 0 && r.duplicates === 0 && r.out_of_order === 0 && (!lossless || r.lost === 0)
  await clients.shutdown()
  await server.shutdown(0)
  return r
}

function parseSize (s: string, option = '--size'): number {
  const m = /^(\d+)\s*(B|K|KB|KiB|M|MB|MiB)?$/i.exec(s.trim())
  if (m === null) throw new TypeError(`${option}: '${s}' is not a size (a number of bytes, or with K/KiB or M/MiB)`)
  const unit = (m[2] ?? 'B').toUpperCase()
  return Number(m[1]) * (unit.startsWith('K') ? 1024 : unit.startsWith('M') ? 1024 * 1024 : 1)
}

/** The messenger's default limits.maxDataLen: a larger message would be refused by the receiver. */
const MAX_MESSAGE_DATA = 128 * 1024 * 1024

/** `--size MIN-MAX` or `--size N`: both at least 1 byte, MIN <= MAX. */
export function parseSizeRange (text: string): [number, number] {
  const parts = text.split('-')
  if (parts.length > 2 || parts.some((p) => p.trim() === '')) throw new TypeError(`--size must be MIN-MAX or SIZE (e.g. 1-4096, 1-64KiB), got '${text}'`)
  const lo = parseSize(parts[0])
  const hi = parts.length === 2 ? parseSize(parts[1]) : lo
  if (lo < 1) throw new TypeError(`--size ${text}: messages carry at least 1 byte of data (MIN >= 1)`)
  if (lo > hi) throw new TypeError(`--size ${text}: MIN (${lo}) is above MAX (${hi})`)
  if (hi > MAX_MESSAGE_DATA) throw new TypeError(`--size ${text}: MAX is above the messenger's 128 MiB data limit`)
  return [lo, hi]
}

function integer (name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text)
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new TypeError(`--${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`}, got '${text}'`)
  }
  return n
}

function real (name: string, text: string, min: number, max: number, minExclusive = false): number {
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n) || n < min || (minExclusive && n === min) || n > max) {
    const range = max === Infinity ? (minExclusive ? `> ${min}` : `>= ${min}`) : `from ${min} to ${max}`
    throw new TypeError(`--${name} must be a number ${range}, got '${text}'`)
  }
  return n
}

export async function run (argv: string[], io: Io = stdio): Promise<number> {
  const parsed = parseCommandArgs(argv, io, USAGE, {
    policy: { type: 'string', default: 'lossless_peer' },
    connections: { type: 'string', default: '4' },
    messages: { type: 'string', default: '1000' },
    size: { type: 'string', default: '1-4096' },
    'large-every': { type: 'string', default: '0' },
    'large-max': { type: 'string', default: '1MiB' },
    'inject-socket-failures': { type: 'string', default: '0' },
    'inject-delay-probability': { type: 'string', default: '0' },
    'inject-delay-max': { type: 'string', default: '0.05' },
    transport: { type: 'string', default: 'tcp' },
    timeout: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    processes: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    // Not in the usage: how the stress process starts a client process (--processes).
    role: { type: 'string', default: 'server' },
    server: { type: 'string' },
    index: { type: 'string' }
  })
  if (typeof parsed === 'number') return parsed
  const { values } = parsed
  // Every option but the booleans has a default, so it is a string.
  const str = (name: string): string => values[name] as string
  const usageError = (msg: string): number => {
    io.err(`error: ${msg}\n${USAGE}`)
    return EXIT_USAGE
  }
  const policy = str('policy')
  if (policy !== 'lossless_peer' && policy !== 'lossless_client' && policy !== 'lossy_client') return usageError(`unknown policy ${policy}`)
  const transport = str('transport')
  if (transport !== 'tcp' && transport !== 'memory') return usageError(`unknown transport ${transport}`)
  if (values.processes === true && transport !== 'tcp') return usageError('--processes needs --transport tcp')
  let o: StressOptions
  try {
    const [minSize, maxSize] = parseSizeRange(str('size'))
    const largeEvery = integer('large-every', str('large-every'), 0)
    const largeMax = parseSize(str('large-max'), '--large-max')
    if (largeEvery > 0 && (largeMax < minSize || largeMax > MAX_MESSAGE_DATA)) {
      throw new TypeError(`--large-max ${str('large-max')} must be from MIN of --size (${minSize}) to 128 MiB`)
    }
    o = {
      policy,
      connections: integer('connections', str('connections'), 1, 100_000),
      messages: integer('messages', str('messages'), 1),
      minSize,
      maxSize,
      largeEvery,
      largeMax,
      injectSocketFailures: integer('inject-socket-failures', str('inject-socket-failures'), 0),
      injectDelayProbability: real('inject-delay-probability', str('inject-delay-probability'), 0, 1),
      injectDelayMax: real('inject-delay-max', str('inject-delay-max'), 0, 3600),
      transport,
      timeoutSeconds: real('timeout', str('timeout'), 0, Infinity, true),
      seed: integer('seed', str('seed'), 0, 0xffffffff),
      processes: values.processes === true
    }
  } catch (e) {
    return usageError((e as Error).message)
  }
  if (str('role') === 'client') {
    const server = values.server as string | undefined
    const index = Number(values.index)
    if (server === undefined || !Number.isInteger(index) || index < 0) return usageError('--role client needs --server ADDR and --index N')
    return await runClientProcess(o, server, index, io)
  }
  if (str('role') !== 'server') return usageError(`unknown role ${str('role')}`)
  const res = await runStress(o, io)
  if (values.json === true) {
    io.out(JSON.stringify(res) + '\n')
  } else {
    io.out(`${res.ok ? 'OK' : 'FAILED'} ${res.policy}: sent ${res.sent}, delivered ${res.delivered}, lost ${res.lost}, ` +
      `duplicates ${res.duplicates}, out of order ${res.out_of_order}, corrupt ${res.corrupt}, reconnects ${res.reconnects}, ` +
      `faults ${res.faults}, injected failures ${res.injected_failures}, ${(res.bytes / 1048576).toFixed(1)} MiB in ${res.seconds.toFixed(2)} s\n`)
  }
  return res.ok ? 0 : 1
}
