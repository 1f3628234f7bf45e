// The same work as raw.ts, done with ceph-msgr Messengers (msgr v1 over TCP, CRCs on).
import { EntityType, Message, Messenger, MPing, MsgType, Policy, formatEntityAddr } from '../../lib/index.ts'
import { Connection } from '../../lib/index.ts'
import { Monitor } from '../../lib/mon/index.ts'
import { KIND_BASE, Kind } from './proto.ts'
import type {
  ConnectPingParams, ConnectPingResult, FaninParams, FloodParams, IdleParams, ListenParams, OnewayParams,
  OnewayResult, RoundCpu, RttParams, RttResult
} from './proto.ts'
import { RoundMeter, clampRound, percentile, runLimited, sleep, withTimeout } from './util.ts'
import type { ServerHandle } from './util.ts'

const T = {
  START: KIND_BASE + Kind.START,
  STARTED: KIND_BASE + Kind.STARTED,
  DATA: KIND_BASE + Kind.DATA,
  DONE: KIND_BASE + Kind.DONE,
  ECHO: KIND_BASE + Kind.ECHO,
  HELLO: KIND_BASE + Kind.HELLO
} as const

/** A ping not answered within this is an error (not a hang of the whole bench). */
const PING_TIMEOUT_MS = 10_000

function u32 (n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n >>> 0)
  return b
}

function readU32 (b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0)
}

function msg (type: number, init: { front?: Uint8Array, data?: Uint8Array } = {}): Message {
  return new Message({ type, ...init })
}

function connOf (m: Message): Connection {
  const c = m.connection
  if (!(c instanceof Connection)) throw new TypeError('message without its connection')
  return c
}

// ---- server -------------------------------------------------------------------------------------

export async function oursListen (params: ListenParams): Promise<ServerHandle> {
  if (params.mode === 'monitor') return await monitorListen()
  const lossless = params.mode === 'sink' || params.mode === 'sink-queued' || params.mode === 'sink-queued-async' || params.mode === 'flood'
  const msgr = Messenger.create({
    type: 'tcp',
    name: lossless ? 'osd.0' : 'mon.0',
    nonce: lossless ? Math.floor(Math.random() * 0xffffffff) >>> 0 : 0,
    policy: lossless ? Policy.losslessPeer() : Policy.statelessServer()
  })
  let expected = -1
  let received = 0
  const meter = new RoundMeter()
  const handle = (m: Message): void => {
    switch (m.type) {
      case T.START:
        expected = readU32(m.front)
        received = 0
        meter.start()
        connOf(m).send(msg(T.STARTED))
        break
      case T.DATA:
        if (++received === expected) {
          meter.done(received)
          connOf(m).send(msg(T.DONE, { front: u32(received) }))
        }
        // Done with it: a large payload's buffer goes back to the messenger's pool.
        m.put()
        break
      case T.ECHO:
        connOf(m).send(msg(T.ECHO, { front: m.front }))
        break
      case T.HELLO:
        connOf(m).send(msg(T.HELLO))
        break
      case MsgType.PING:
        connOf(m).send(new MPing())
        break
    }
  }
  let peak = 0
  let peakArrayBuffers = 0
  let peakHeap = 0
  let sampler: ReturnType<typeof setInterval> | undefined
  if (params.mode === 'flood') {
    // A dispatcher consuming `rate` bytes/s: every message costs size/rate seconds of (timer) work.
    const rate = params.dispatchBytesPerSec ?? 50e6
    let busyUntil = 0
    msgr.addDispatcherTail({
      msCanFastDispatch: (m) => m.type !== T.DATA,
      msFastDispatch: handle,
      msDispatch: async (m) => {
        const now = performance.now()
        busyUntil = Math.max(busyUntil, now) + m.payloadLength / rate * 1000
        if (busyUntil - now >= 1) await sleep(busyUntil - now)
        handle(m)
        return true
      }
    })
    const sample = (): void => {
      const m = process.memoryUsage()
      peak = Math.max(peak, m.rss)
      peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers)
      peakHeap = Math.max(peakHeap, m.heapUsed)
    }
    sample()
    sampler = setInterval(sample, 5)
  } else if (params.mode === 'sink-queued') {
    // Data through the DispatchQueue (Ceph's ms_dispatch path), control messages fast.
    msgr.addDispatcherTail({ msCanFastDispatch: (m) => m.type !== T.DATA, msFastDispatch: handle, msDispatch: (m) => { handle(m); return true } })
  } else if (params.mode === 'sink-queued-async') {
    // The same, with a dispatcher that returns a promise: every message takes a p-queue slot.
    msgr.addDispatcherTail({ msCanFastDispatch: (m) => m.type !== T.DATA, msFastDispatch: handle, msDispatch: async (m) => { handle(m); return true } })
  } else {
    msgr.addDispatcherTail({ msCanFastDispatch: () => true, msFastDispatch: handle })
  }
  const addr = await msgr.bind('v1:127.0.0.1:0')
  msgr.start()
  return {
    endpoint: { host: '127.0.0.1', port: addr.port, addr: formatEntityAddr(addr) },
    connections: () => msgr.connections.size,
    lastRound: () => meter.last,
    sampledPeakRss: () => {
      if (sampler !== undefined) peak = Math.max(peak, process.memoryUsage.rss())
      return peak
    },
    sampledPeaks: () => ({ arrayBuffers: peakArrayBuffers, heapUsed: peakHeap }),
    close: async () => {
      if (sampler !== undefined) clearInterval(sampler)
      await msgr.shutdown(0)
    }
  }
}

/** The example mon (what `npm start` runs), on a free port. */
async function monitorListen (): Promise<ServerHandle> {
  const mon = new Monitor({ id: 'a', addr: 'v1:127.0.0.1:0' })
  const addr = await mon.init()
  return {
    endpoint: { host: '127.0.0.1', port: addr.port, addr: formatEntityAddr(addr) },
    connections: () => 0,
    lastRound: () => undefined,
    sampledPeakRss: () => 0,
    sampledPeaks: () => ({ arrayBuffers: 0, heapUsed: 0 }),
    close: async () => { await mon.shutdown(0) }
  }
}

// ---- client -------------------------------------------------------------------------------------

/** Messages a client's fast dispatcher received, taken one at a time. */
class Inbox {
  private readonly queue: Message[] = []
  private waiter: ((m: Message) => void) | undefined

  push (m: Message): void {
    const w = this.waiter
    if (w !== undefined) {
      this.waiter = undefined
      w(m)
    } else {
      this.queue.push(m)
    }
  }

  next (): Promise<Message> {
    const m = this.queue.shift()
    if (m !== undefined) return Promise.resolve(m)
    return new Promise((resolve) => { this.waiter = resolve })
  }

  async expect (type: number): Promise<Message> {
    const m = await this.next()
    if (m.type !== type) throw new Error(`expected message type ${type}, got ${m.type}`)
    return m
  }
}

interface Client {
  msgr: Messenger
  inbox: Inbox
}

function client (name: string, policy: Policy): Client {
  const msgr = Messenger.create({ type: 'tcp', name, policy })
  const inbox = new Inbox()
  msgr.addDispatcherTail({ msCanFastDispatch: () => true, msFastDispatch: (m) => { inbox.push(m) } })
  msgr.start()
  return { msgr, inbox }
}

/** Send `n` messages carrying `data`: keep sending while send() says so, else wait for drained(). */
async function sendData (conn: Connection, data: Uint8Array, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (!conn.send(new Message({ type: T.DATA, data }))) await conn.drained()
  }
}

async function round (c: Client, conn: Connection, data: Uint8Array, n: number): Promise<RoundCpu> {
  conn.send(msg(T.START, { front: u32(n) }))
  await c.inbox.expect(T.STARTED)
  const meter = new RoundMeter()
  meter.start()
  await sendData(conn, data, n)
  await c.inbox.expect(T.DONE)
  return meter.done(n)
}

export async function oursOneway (p: OnewayParams): Promise<OnewayResult> {
  const c = client('osd.1', Policy.losslessPeer())
  try {
    const conn = c.msgr.connectTo(EntityType.OSD, p.endpoint.addr)
    const data = new Uint8Array(p.size).fill(0x5a)
    // Two warm-up rounds (the first one runs cold code); the second sizes the measured round.
    await round(c, conn, data, p.warmupMessages)
    const warm = await round(c, conn, data, p.warmupMessages)
    const n = clampRound(p.warmupMessages, warm.wallMs, p.targetMs, p.maxMessages)
    const cpu = await round(c, conn, data, n)
    return { messages: n, bytes: n * p.size, elapsedMs: cpu.wallMs, cpu }
  } finally {
    await c.msgr.shutdown(200)
  }
}

export async function oursRtt (p: RttParams): Promise<RttResult> {
  const c = client('client.?', Policy.lossyClient())
  try {
    const conn = c.msgr.connectTo(EntityType.MON, p.endpoint.addr)
    const front = new Uint8Array(p.size).fill(0x33)
    const times: number[] = []
    for (let i = 0; i < p.warmup + p.count; i++) {
      const t0 = performance.now()
      conn.send(msg(T.ECHO, { front }))
      await c.inbox.expect(T.ECHO)
      if (i >= p.warmup) times.push((performance.now() - t0) * 1000)
    }
    return percentile(times)
  } finally {
    await c.msgr.shutdown(200)
  }
}

export async function oursConnectPing (p: ConnectPingParams): Promise<ConnectPingResult> {
  const c = client('client.?', Policy.lossyClient())
  const once = async (): Promise<void> => {
    const conn = c.msgr.connectTo(EntityType.MON, p.endpoint.addr)
    conn.send(new MPing())
    try {
      await withTimeout(c.inbox.expect(MsgType.PING), PING_TIMEOUT_MS, 'ping')
    } finally {
      conn.markDown()
    }
  }
  try {
    const c0 = process.cpuUsage()
    for (let i = 0; i < p.warmup; i++) await once()
    let pings = 0
    const t0 = performance.now()
    while (performance.now() - t0 < p.durationMs) {
      await once()
      pings++
    }
    const elapsedMs = performance.now() - t0
    const cpu = process.cpuUsage(c0)
    return { pings, elapsedMs, totalPings: pings + p.warmup, cpuMs: (cpu.user + cpu.system) / 1000 }
  } finally {
    await c.msgr.shutdown(0)
  }
}

interface Opened {
  clients: Client[]
  conns: Connection[]
}

/** `count` messengers, each with one connection, each known to work (a HELLO round trip). */
async function openMany (addr: string, count: number, lossless: boolean): Promise<Opened> {
  const clients: Client[] = new Array<Client>(count)
  const conns: Connection[] = new Array<Connection>(count)
  await runLimited(count, 256, async (i) => {
    const c = lossless ? client(`osd.${i + 1}`, Policy.losslessPeer()) : client('client.?', Policy.lossyClient())
    clients[i] = c
    const conn = c.msgr.connectTo(lossless ? EntityType.OSD : EntityType.MON, addr)
    conns[i] = conn
    conn.send(msg(T.HELLO))
    await c.inbox.expect(T.HELLO)
  })
  return { clients, conns }
}

async function closeMany (clients: Client[], drainMs: number): Promise<void> {
  await Promise.all(clients.filter((c) => c !== undefined).map((c) => c.msgr.shutdown(drainMs)))
}

export async function oursFanin (p: FaninParams): Promise<OnewayResult> {
  const { clients, conns } = await openMany(p.endpoint.addr, p.connections, true)
  try {
    const total = p.connections * p.messagesPerConnection
    const data = new Uint8Array(p.size).fill(0x77)
    conns[0].send(msg(T.START, { front: u32(total) }))
    await clients[0].inbox.expect(T.STARTED)
    const done = Promise.any(clients.map((c) => c.inbox.expect(T.DONE)))
    const t0 = performance.now()
    await Promise.all(conns.map((conn) => sendData(conn, data, p.messagesPerConnection)))
    await done
    return { messages: total, bytes: total * p.size, elapsedMs: performance.now() - t0 }
  } finally {
    await closeMany(clients, 0)
  }
}

let idle: Client[] = []

export async function oursIdleOpen (p: IdleParams): Promise<number> {
  const { clients } = await openMany(p.endpoint.addr, p.connections, false)
  idle = clients
  return clients.length
}

export async function oursIdleClose (): Promise<number> {
  const n = idle.length
  await closeMany(idle, 0)
  idle = []
  return n
}

export async function oursFlood (p: FloodParams): Promise<OnewayResult> {
  const c = client('osd.1', Policy.losslessPeer())
  try {
    const conn = c.msgr.connectTo(EntityType.OSD, p.endpoint.addr)
    const data = new Uint8Array(p.size).fill(0x42)
    const n = Math.ceil(p.totalBytes / p.size)
    const cpu = await round(c, conn, data, n)
    return { messages: n, bytes: n * p.size, elapsedMs: cpu.wallMs, cpu }
  } finally {
    await c.msgr.shutdown(200)
  }
}
