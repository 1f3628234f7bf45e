// MsgrSocket over a net.Socket. Reading is an async iterator over 'data' events: a reader that
// stops pulling (throttled dispatch) lets at most `readHighWater` bytes queue, then the socket is
// paused and TCP pushes back on the peer. (The stream's own async iterator calls read(), which
// concatenates everything buffered: a hidden copy of every byte received.)
import type { Socket } from 'node:net'
import type { MsgrSocket, SocketAddress } from './socket.ts'

const EMPTY = new Uint8Array(0)

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
  }

  private reader (readHighWater = 256 * 1024): AsyncIterator<Uint8Array> {
    const s = this.socket
    const queue: Uint8Array[] = []
    let head = 0
    let queued = 0
    let ended = false
    let error: Error | undefined
    let wake: (() => void) | undefined
    const notify = (): void => {
      const w = wake
      wake = undefined
      w?.()
    }
    const onData = (b: Buffer): void => {
      queue.push(b)
      queued += b.length
      if (queued >= readHighWater) s.pause()
      notify()
    }
    const onEnd = (): void => { ended = true; notify() }
    const onError = (e: Error): void => { error = e; notify() }
    const detach = (): void => {
      s.off('data', onData)
      s.off('end', onEnd)
      s.off('close', onEnd)
      s.off('error', onError)
    }
    s.on('data', onData)
    s.on('end', onEnd)
    s.on('close', onEnd)
    s.on('error', onError)
    const done: IteratorResult<Uint8Array> = { done: true, value: undefined }
    return {
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        while (true) {
          if (head < queue.length) {
            const value = queue[head]
            queue[head++] = EMPTY
            if (head === queue.length) { queue.length = 0; head = 0 }
            queued -= value.length
            if (queued < readHighWater && s.isPaused() && !s.destroyed) s.resume()
            return { done: false, value }
          }
          if (error !== undefined) { detach(); throw error }
          if (ended || s.destroyed) { detach(); return done }
          await new Promise<void>((resolve) => { wake = resolve })
        }
      },
      return: async (): Promise<IteratorResult<Uint8Array>> => {
        detach()
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
