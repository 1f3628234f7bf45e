// MsgrSocket over a net.Socket. Reading is the stream's own async iterator, so a reader that
// stops pulling (throttled dispatch) stops reading the socket and TCP pushes back on the peer.
import type { Socket } from 'node:net'
import type { MsgrSocket, SocketAddress } from './socket.ts'

function family (f: string | number | undefined): number {
  return f === 'IPv6' || f === 6 ? 6 : 4
}

export class TcpSocket implements MsgrSocket {
  readonly socket: Socket
  readonly source: AsyncIterable<Uint8Array>
  readonly local: SocketAddress
  readonly remote: SocketAddress

  constructor (socket: Socket) {
    this.socket = socket
    socket.setNoDelay(true)
    // Errors surface through the iterator and write(); this listener keeps them from being
    // reported as unhandled 'error' events.
    socket.on('error', () => {})
    this.source = socket
    this.local = { ip: socket.localAddress ?? '', port: socket.localPort ?? 0, family: family(socket.localFamily) }
    this.remote = { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, family: family(socket.remoteFamily) }
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
    if (ok) return undefined
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
