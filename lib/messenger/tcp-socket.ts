// MsgrSocket over a net.Socket. Reading is an async iterator over 'data' events: a reader that
// stops pulling (throttled dispatch) lets at most `readHighWater` bytes queue, then the socket is
// paused and TCP pushes back on the peer. (The stream's own async iterator calls read(), which
// concatenates everything buffered: a hidden copy of every byte received.)
import type { Socket } from 'node:net'
import type { MsgrSocket, SocketAddress } from './socket.ts'

const EMPTY = new Uint8Array(0)
/** A reader that stops pulling lets at most this much queue before the socket is paused. */
const READ_HIGH_WATER = 256 * 1024

function family (f: string | number | undefined): number {
  return f === 'IPv6' || f === 6 ? 6 : 4
}

export class TcpSocket implements MsgrSocket {
  readonly socket: Socket
  readonly source: AsyncIterable<Uint8Array>
  readonly local: SocketAddress
  readonly remote: SocketAddress

  /** Bytes the socket may hold unsent before write() asks the writer to wait. */
  readonly writeHighWater: number

  constructor (socket: Socket, writeHighWater = 4 * 1024 * 1024) {
    this.socket = socket
    this.writeHighWater = writeHighWater
    socket.setNoDelay(true)
    // Errors surface through the iterator and write(); this listener keeps them from being
    // reported as unhandled 'error' events.
    socket.on('error', () => {})
    this.source = { [Symbol.asyncIterator]: () => this.reader() }
    this.local = { ip: socket.localAddress ?? '', port: socket.localPort ?? 0, family: family(socket.localFamily) }
    this.remote = { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, family: family(socket.remoteFamily) }
    // Listen from the start, so an error before the first read is not lost.
    this.listen()
  }

  // The receive queue, filled by 'data' events and emptied by read().
  private readonly queue: Uint8Array[] = []
  private head = 0
  private queued = 0
  private ended = false
  private error: Error | undefined
  private wake: (() => void) | undefined
  private listening = false

  private readonly onData = (b: Buffer): void => {
    this.queue.push(b)
    this.queued += b.length
    if (this.queued >= READ_HIGH_WATER) this.socket.pause()
    this.notify()
  }

  private readonly onEnd = (): void => { this.ended = true; this.notify() }
  private readonly onError = (e: Error): void => { this.error = e; this.notify() }

  private notify (): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  private listen (): void {
    if (this.listening) return
    this.listening = true
    const s = this.socket
    s.on('data', this.onData)
    s.on('end', this.onEnd)
    s.on('close', this.onEnd)
    s.on('error', this.onError)
  }

  private detach (): void {
    const s = this.socket
    s.off('data', this.onData)
    s.off('end', this.onEnd)
    s.off('close', this.onEnd)
    s.off('error', this.onError)
  }

  read (): Uint8Array | null | undefined {
    this.listen()
    const q = this.queue
    if (this.head < q.length) {
      const value = q[this.head]
      q[this.head++] = EMPTY
      if (this.head === q.length) { q.length = 0; this.head = 0 }
      this.queued -= value.length
      const s = this.socket
      if (this.queued < READ_HIGH_WATER && s.isPaused() && !s.destroyed) s.resume()
      return value
    }
    if (this.error !== undefined) { this.detach(); throw this.error }
    if (this.ended || this.socket.destroyed) { this.detach(); return null }
    return undefined
  }

  readable (): Promise<void> {
    this.listen()
    if (this.head < this.queue.length || this.error !== undefined || this.ended || this.socket.destroyed) return Promise.resolve()
    return new Promise<void>((resolve) => { this.wake = resolve })
  }

  private reader (): AsyncIterator<Uint8Array> {
    this.listen()
    const done: IteratorResult<Uint8Array> = { done: true, value: undefined }
    return {
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        while (true) {
          const value = this.read()
          if (value === null) return done
          if (value !== undefined) return { done: false, value }
          await this.readable()
        }
      },
      return: async (): Promise<IteratorResult<Uint8Array>> => {
        this.detach()
        return done
      }
    }
  }

  write (bufs: Uint8Array[]): Promise<void> | undefined {
    const s = this.socket
    if (s.destroyed) return undefined
    let ok = true
    if (bufs.length === 1) {
      ok = s.write(bufs[0])
    } else {
      // cork + uncork turns the writes into one writev.
      s.cork()
      for (const b of bufs) ok = s.write(b)
      s.uncork()
    }
    // Node's 16 KiB high-water mark would stall the writer after every batch until the kernel
    // took everything; keep up to writeHighWater queued so the pipe stays full.
    if (ok || s.writableLength < this.writeHighWater) return undefined
    return new Promise((resolve) => {
      const done = (): void => {
        s.off('drain', done)
        s.off('close', done)
        resolve()
      }
      s.on('drain', done)
      s.on('close', done)
    })
  }

  end (): void {
    this.socket.end()
  }

  destroy (err?: Error): void {
    this.socket.destroy(err)
  }

  get destroyed (): boolean {
    return this.socket.destroyed
  }

  get writableLength (): number {
    return this.socket.writableLength
  }
}
