// An in-memory socket pair with the same contract as TCP: ordered bytes, back-pressure at a
// high-water mark, half-close and reset. Used by the in-memory messenger and in tests.
import type { MsgrSocket, SocketAddress } from './socket.ts'

class Pipe {
  chunks: Uint8Array[] = []
  bytes = 0
  ended = false
  error: Error | undefined
  /** The reader waiting for data. */
  wake: (() => void) | undefined
  /** Writers waiting for room. */
  drains: Array<() => void> = []
  readonly highWater: number

  constructor (highWater: number) {
    this.highWater = highWater
  }

  notifyReader (): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  notifyWriters (): void {
    const ds = this.drains
    this.drains = []
    for (const d of ds) d()
  }
}

class MemorySocket implements MsgrSocket {
  readonly local: SocketAddress
  readonly remote: SocketAddress
  private readonly rx: Pipe
  private readonly tx: Pipe
  destroyed = false

  constructor (rx: Pipe, tx: Pipe, local: SocketAddress, remote: SocketAddress) {
    this.rx = rx
    this.tx = tx
    this.local = local
    this.remote = remote
  }

  /** Chunks taken from the pipe in one go (the writers were told there is room), read one by one. */
  private pending: Uint8Array[] = []
  private pendingAt = 0

  get source (): AsyncIterable<Uint8Array> {
    return {
      [Symbol.asyncIterator]: async function * (this: MemorySocket) {
        while (true) {
          const c = this.read()
          if (c === null) return
          if (c !== undefined) yield c
          else await this.readable()
        }
      }.bind(this)
    }
  }

  read (): Uint8Array | null | undefined {
    if (this.pendingAt < this.pending.length) {
      const c = this.pending[this.pendingAt++]
      if (this.pendingAt === this.pending.length) { this.pending = []; this.pendingAt = 0 }
      return c
    }
    const rx = this.rx
    if (rx.error !== undefined) throw rx.error
    if (rx.chunks.length > 0) {
      this.pending = rx.chunks
      this.pendingAt = 0
      rx.chunks = []
      rx.bytes = 0
      rx.notifyWriters()
      return this.read()
    }
    if (rx.ended) return null
    return undefined
  }

  readable (): Promise<void> {
    const rx = this.rx
    if (this.pendingAt < this.pending.length || rx.chunks.length > 0 || rx.error !== undefined || rx.ended) return Promise.resolve()
    return new Promise<void>((resolve) => { rx.wake = resolve })
  }

  write (bufs: Uint8Array[]): Promise<void> | undefined {
    const tx = this.tx
    if (this.destroyed || tx.ended || tx.error !== undefined) return undefined
    for (const b of bufs) {
      if (b.length === 0) continue
      tx.chunks.push(b)
      tx.bytes += b.length
    }
    tx.notifyReader()
    if (tx.bytes < tx.highWater) return undefined
    return new Promise((resolve) => { tx.drains.push(resolve) })
  }

  end (): void {
    this.tx.ended = true
    this.tx.notifyReader()
  }

  destroy (err?: Error): void {
    if (this.destroyed) return
    this.destroyed = true
    // Our reads end; the peer sees a reset.
    this.rx.ended = true
    this.rx.chunks = []
    this.rx.notifyReader()
    this.rx.notifyWriters()
    this.tx.error = err ?? Object.assign(new Error('connection reset by peer'), { code: 'ECONNRESET' })
    this.tx.notifyReader()
    this.tx.notifyWriters()
  }

  get writableLength (): number {
    return this.tx.bytes
  }
}

/** Two connected sockets: what one writes, the other reads. */
export function memorySocketPair (a: SocketAddress, b: SocketAddress, highWater = 4 * 1024 * 1024): [MsgrSocket, MsgrSocket] {
  const ab = new Pipe(highWater)
  const ba = new Pipe(highWater)
  return [new MemorySocket(ba, ab, a, b), new MemorySocket(ab, ba, b, a)]
}
