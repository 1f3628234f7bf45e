// `ceph-msgr stress`: a synthetic workload in the spirit of Ceph's SyntheticInject tests. One
// server and N client connections; every message carries (connection, index) in its front and a
// payload derived from them, so the receiver can check exactly-once, in-order, byte-identical
// delivery without keeping copies. Socket failures and dispatch delays can be injected.
import { parseArgs } from 'node:util'
import { Message } from '../messages/message.ts'
import { Messenger } from '../messenger/messenger.ts'
import '../messenger/tcp-messenger.ts'
import '../messenger/memory-messenger.ts'
import type { Connection } from '../messenger/connection.ts'
import { Policy } from '../session/policy.ts'
import { EntityType } from '../wire/constants.ts'

const STRESS_TYPE = 0x7ff0

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

function payloadFor (o: StressOptions, c: number, i: number): Uint8Array {
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

function equal (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

export async function runStress (o: StressOptions): Promise<StressResult> {
  const t0 = performance.now()
  const lossless = o.policy !== 'lossy_client'
  const serverPolicy = o.policy === 'lossless_peer' ? Policy.losslessPeer() : o.policy === 'lossless_client' ? Policy.statefulServer() : Policy.statelessServer()
  const clientPolicy = o.policy === 'lossless_peer' ? Policy.losslessPeer() : o.policy === 'lossless_client' ? Policy.losslessClient() : Policy.lossyClient()
  const clientType = o.policy === 'lossless_peer' ? EntityType.OSD : EntityType.CLIENT
  const inject = o.injectSocketFailures
  const server = Messenger.create({
    type: o.transport,
    name: { type: EntityType.OSD, num: 0 },
    policy: serverPolicy,
    config: {
      injectSocketFailures: inject,
      ...(o.injectDelayProbability > 0 ? { injectDelay: { probability: o.injectDelayProbability, maxSeconds: o.injectDelayMax } } : {}),
      limits: { maxDataLen: Math.max(o.maxSize, o.largeMax) + 1 }
    }
  })
  server.setPolicy(clientType, serverPolicy)
  const expected = new Array<number>(o.connections).fill(0)
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
      r.bytes += m.data.length
      if (r.delivered >= total) allDone()
    }
  })
  server.start()
  const addr = await server.bind('v1:127.0.0.1:0')
  const clients: Messenger[] = []
  const conns: Connection[] = []
  for (let c = 0; c < o.connections; c++) {
    const m = Messenger.create({ type: o.transport, name: { type: clientType, num: c + 1 }, policy: clientPolicy, config: { injectSocketFailures: inject } })
    m.setPolicy(EntityType.OSD, clientPolicy)
    m.start()
    clients.push(m)
    conns.push(m.connectTo(EntityType.OSD, addr))
  }
  await Promise.all(conns.map(async (conn, c) => {
    for (let i = 0; i < o.messages; i++) {
      const front = new Uint8Array(8)
      const dv = new DataView(front.buffer)
      dv.setUint32(0, c, true)
      dv.setUint32(4, i, true)
      const msg = new Message({ type: STRESS_TYPE, front, data: payloadFor(o, c, i) })
      if (conn.isClosed) break
      r.sent++
      if (!conn.send(msg)) await conn.drained()
    }
  }))
  // Wait for everything (lossless), or until nothing has moved for a while (lossy).
  const deadline = performance.now() + o.timeoutSeconds * 1000
  let last = -1
  let idleSince = performance.now()
  while (r.delivered < r.sent && performance.now() < deadline) {
    const tick = new Promise<void>((resolve) => { setTimeout(resolve, 100) })
    await Promise.race([done, tick])
    if (progress !== last) { last = progress; idleSince = performance.now() }
    if (!lossless && performance.now() - idleSince > 2000) break
  }
  for (const m of [server, ...clients]) {
    const p = m.perfDump()
    r.reconnects += p.msgr_reconnects as number
    r.faults += p.msgr_faults as number
  }
  for (const c of [...server.connections, ...conns]) r.injected_failures += c.counters.injectedFailures
  r.injected_delays = server.counters.injectedDelays
  r.lost = r.sent - r.delivered
  r.seconds = (performance.now() - t0) / 1000
  r.ok = !lossless || (r.lost === 0 && r.duplicates === 0 && r.out_of_order === 0 && r.corrupt === 0)
  if (!lossless) r.ok = r.corrupt === 0 && r.duplicates === 0 && r.out_of_order === 0
  await Promise.all(clients.map(async (m) => { await m.shutdown(0) }))
  await server.shutdown(0)
  return r
}

function parseSize (s: string): number {
  const m = /^(\d+)\s*(B|K|KB|KiB|M|MB|MiB)?$/i.exec(s.trim())
  if (m === null) throw new Error(`bad size ${s}`)
  const unit = (m[2] ?? 'B').toUpperCase()
  return Number(m[1]) * (unit.startsWith('K') ? 1024 : unit.startsWith('M') ? 1024 * 1024 : 1)
}

export async function run (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
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
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  if (values.help) {
    process.stdout.write('usage: ceph-msgr stress [--policy lossless_peer|lossless_client|lossy_client] [--connections N] [--messages M]\n' +
      '  [--size MIN-MAX] [--large-every K --large-max SIZE] [--inject-socket-failures K] [--inject-delay-probability P]\n' +
      '  [--inject-delay-max SECONDS] [--transport tcp|memory] [--timeout S] [--seed N] [--json]\n')
    return 0
  }
  const policy = values.policy
  if (policy !== 'lossless_peer' && policy !== 'lossless_client' && policy !== 'lossy_client') {
    process.stderr.write(`error: unknown policy ${policy}\n`)
    return 2
  }
  if (values.processes) {
    process.stderr.write('error: --processes is not supported yet; run several `ceph-msgr stress` instances instead\n')
    return 2
  }
  const [lo, hi] = values.size.split('-')
  const o: StressOptions = {
    policy,
    connections: Number(values.connections),
    messages: Number(values.messages),
    minSize: parseSize(lo),
    maxSize: parseSize(hi ?? lo),
    largeEvery: Number(values['large-every']),
    largeMax: parseSize(values['large-max']),
    injectSocketFailures: Number(values['inject-socket-failures']),
    injectDelayProbability: Number(values['inject-delay-probability']),
    injectDelayMax: Number(values['inject-delay-max']),
    transport: values.transport === 'memory' ? 'memory' : 'tcp',
    timeoutSeconds: Number(values.timeout),
    seed: Number(values.seed)
  }
  const res = await runStress(o)
  if (values.json) {
    process.stdout.write(JSON.stringify(res) + '\n')
  } else {
    process.stdout.write(`${res.ok ? 'OK' : 'FAILED'} ${res.policy}: sent ${res.sent}, delivered ${res.delivered}, lost ${res.lost}, ` +
      `duplicates ${res.duplicates}, out of order ${res.out_of_order}, corrupt ${res.corrupt}, reconnects ${res.reconnects}, ` +
      `faults ${res.faults}, injected failures ${res.injected_failures}, ${(res.bytes / 1048576).toFixed(1)} MiB in ${res.seconds.toFixed(2)} s\n`)
  }
  return res.ok ? 0 : 1
}
