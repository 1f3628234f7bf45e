// The baseline: the same work over raw `net` sockets with 4-byte length-prefixed frames.
import { connect as netConnect, createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { FrameParser, frame, frameHeader, u32 } from './frames.ts'
import { Kind } from './proto.ts'
import type {
  ConnectPingParams, ConnectPingResult, Endpoint, FaninParams, IdleParams, ListenParams, OnewayParams,
  OnewayResult, RoundCpu, RttParams, RttResult
} from './proto.ts'
import { RoundMeter, clampRound, percentile, runLimited, withTimeout } from './util.ts'
import type { ServerHandle } from './util.ts'

interface Frame {
  kind: number
  payload: Buffer
}

// ---- server -------------------------------------------------------------------------------------

export function rawListen (params: ListenParams): Promise<ServerHandle> {
  let expected = -1
  let received = 0
  const meter = new RoundMeter()
  const sockets = new Set<Socket>()
  const server: Server = createServer({ noDelay: true }, (s) => {
    sockets.add(s)
    s.on('error', () => {})
    s.on('close', () => { sockets.delete(s) })
    const parser = new FrameParser((kind, payload) => {
      switch (kind) {
        case Kind.START:
          expected = payload.readUInt32BE(0)
          received = 0
          meter.start()
          s.write(frame(Kind.STARTED))
          break
        case Kind.DATA:
          if (++received === expected) {
            meter.done(received)
            s.write(frame(Kind.DONE, u32(received)))
          }
          break
        case Kind.ECHO:
          s.write(frame(Kind.ECHO, payload))
          break
        case Kind.HELLO:
          s.write(frame(Kind.HELLO))
          break
      }
    })
    s.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk)
      } catch {
        s.destroy()
      }
    })
  })
  if (params.mode === 'flood') throw new Error('raw flood server not implemented')
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
      const a = server.address()
      if (a === null || typeof a === 'string') { reject(new Error('no address')); return }
      resolve({
        endpoint: { host: '127.0.0.1', port: a.port, addr: `127.0.0.1:${a.port}` },
        connections: () => sockets.size,
        sampledPeakRss: () => 0,
        sampledPeaks: () => ({ arrayBuffers: 0, heapUsed: 0 }),
        lastRound: () => meter.last,
        close: () => new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy()
          server.close(() => { resolve() })
        })
      })
    })
  })
}

// ---- client connection --------------------------------------------------------------------------

/** A client socket with a frame parser and an async "next frame" reader. */
class RawConn {
  readonly sock: Socket
  private readonly frames: Frame[] = []
  private waiter: ((f: Frame | undefined) => void) | undefined
  private closed = false

  private constructor (sock: Socket) {
    this.sock = sock
    const parser = new FrameParser((kind, payload) => {
      const f = { kind, payload }
      const w = this.waiter
      if (w !== undefined) {
        this.waiter = undefined
        w(f)
      } else {
        this.frames.push(f)
      }
    })
    sock.on('data', (chunk: Buffer) => { parser.push(chunk) })
    sock.on('close', () => {
      this.closed = true
      const w = this.waiter
      this.waiter = undefined
      w?.(undefined)
    })
  }

  static open (ep: Endpoint): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = netConnect({ host: ep.host, port: ep.port, noDelay: true })
      s.once('error', reject)
      s.once('connect', () => {
        s.off('error', reject)
        s.on('error', () => {})
        resolve(new RawConn(s))
      })
    })
  }

  next (): Promise<Frame> {
    const f = this.frames.shift()
    if (f !== undefined) return Promise.resolve(f)
    if (this.closed) return Promise.reject(new Error('connection closed'))
    return new Promise((resolve, reject) => {
      this.waiter = (f) => { if (f === undefined) reject(new Error('connection closed')); else resolve(f) }
    })
  }

  async expect (kind: number): Promise<Frame> {
    const f = await this.next()
    if (f.kind !== kind) throw new Error(`expected frame kind ${kind}, got ${f.kind}`)
    return f
  }

  write (b: Buffer): boolean {
    return this.sock.write(b)
  }

  /** Send `n` DATA frames of `payload`, corked, waiting for 'drain' whenever write() says so. */
  async sendData (payload: Buffer, n: number): Promise<void> {
    const s = this.sock
    s.cork()
    for (let i = 0; i < n; i++) {
      s.write(frameHeader(Kind.DATA, payload.length))
      if (!s.write(payload)) {
        s.uncork()
        await new Promise<void>((resolve) => { s.once('drain', resolve) })
        s.cork()
      }
    }
    s.uncork()
  }

  destroy (): void {
    this.sock.destroy()
  }
}

// ---- client cases -------------------------------------------------------------------------------

async function onewayRound (c: RawConn, payload: Buffer, n: number): Promise<RoundCpu> {
  c.write(frame(Kind.START, u32(n)))
  await c.expect(Kind.STARTED)
  const meter = new RoundMeter()
  meter.start()
  await c.sendData(payload, n)
  await c.expect(Kind.DONE)
  return meter.done(n)
}

export async function rawOneway (p: OnewayParams): Promise<OnewayResult> {
  const c = await RawConn.open(p.endpoint)
  try {
    const payload = Buffer.alloc(p.size, 0x5a)
    // Two warm-up rounds (the first one runs cold code); the second sizes the measured round.
    await onewayRound(c, payload, p.warmupMessages)
    const warm = await onewayRound(c, payload, p.warmupMessages)
    const n = clampRound(p.warmupMessages, warm.wallMs, p.targetMs, p.maxMessages)
    const cpu = await onewayRound(c, payload, n)
    return { messages: n, bytes: n * p.size, elapsedMs: cpu.wallMs, cpu }
  } finally {
    c.destroy()
  }
}

export async function rawRtt (p: RttParams): Promise<RttResult> {
  const c = await RawConn.open(p.endpoint)
  try {
    const payload = Buffer.alloc(p.size, 0x33)
    const times: number[] = []
    for (let i = 0; i < p.warmup + p.count; i++) {
      const t0 = performance.now()
      c.write(frame(Kind.ECHO, payload))
      await c.expect(Kind.ECHO)
      if (i >= p.warmup) times.push((performance.now() - t0) * 1000)
    }
    return percentile(times)
  } finally {
    c.destroy()
  }
}

export async function rawConnectPing (p: ConnectPingParams): Promise<ConnectPingResult> {
  const once = async (): Promise<void> => {
    const c = await RawConn.open(p.endpoint)
    c.write(frame(Kind.ECHO))
    try {
      await withTimeout(c.expect(Kind.ECHO), 10_000, 'ping')
    } finally {
      c.destroy()
    }
  }
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
}

async function openHello (ep: Endpoint, count: number): Promise<RawConn[]> {
  const conns: RawConn[] = new Array<RawConn>(count)
  await runLimited(count, 256, async (i) => {
    const c = await RawConn.open(ep)
    c.write(frame(Kind.HELLO))
    await c.expect(Kind.HELLO)
    conns[i] = c
  })
  return conns
}

export async function rawFanin (p: FaninParams): Promise<OnewayResult> {
  const conns = await openHello(p.endpoint, p.connections)
  try {
    const total = p.connections * p.messagesPerConnection
    const payload = Buffer.alloc(p.size, 0x77)
    conns[0].write(frame(Kind.START, u32(total)))
    await conns[0].expect(Kind.STARTED)
    const done = Promise.any(conns.map((c) => c.expect(Kind.DONE)))
    const t0 = performance.now()
    await Promise.all(conns.map((c) => c.sendData(payload, p.messagesPerConnection)))
    await done
    return { messages: total, bytes: total * p.size, elapsedMs: performance.now() - t0 }
  } finally {
    for (const c of conns) c.destroy()
  }
}

let idle: RawConn[] = []

export async function rawIdleOpen (p: IdleParams): Promise<number> {
  idle = await openHello(p.endpoint, p.connections)
  return idle.length
}

export function rawIdleClose (): number {
  const n = idle.length
  for (const c of idle) c.destroy()
  idle = []
  return n
}
