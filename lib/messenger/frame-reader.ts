// Pulls frames out of a socket's byte source through a protocol's FrameSource, then every frame in a chunk
// synchronously. Used for the handshake (frame at a time) and by the open-session read loop
// (batch at a time). Sockets with the pull form (read/readable) are read without a promise per
// queued chunk; others through their async iterator.
import type { FrameSource } from '../protocol/wire-protocol.ts'
import type { Frame } from '../wire/frame.ts'
import { MessengerError, MessengerErrorCode } from '../protocol/errors.ts'
import type { MsgrSocket } from './socket.ts'

export class FrameReader {
  readonly dec: FrameSource
  private readonly sock: MsgrSocket
  private it: AsyncIterator<Uint8Array> | undefined
  /** Called for each chunk read (counters, fault injection). May throw to fault the socket. */
  onChunk: ((chunk: Uint8Array) => void) | undefined
  bytesIn = 0

  constructor (sock: MsgrSocket, dec: FrameSource) {
    this.dec = dec
    this.sock = sock
    if (sock.read === undefined || sock.readable === undefined) this.it = sock.source[Symbol.asyncIterator]()
  }

  /**
   * Push the next chunk if the socket has one queued, without waiting: true = pushed, false = EOF,
   * undefined = nothing yet (then await readable(), or fill()).
   */
  poll (): boolean | undefined {
    const read = this.sock.read
    if (this.it !== undefined || read === undefined) return undefined
    let c: Uint8Array | null | undefined
    try {
      c = read.call(this.sock)
    } catch (e) {
      throw socketError(e)
    }
    if (c === undefined) return undefined
    if (c === null) return false
    this.took(c)
    return true
  }

  /** A promise to await before poll() again, or undefined when this socket is read by fill() only. */
  readable (): Promise<void> | undefined {
    return this.it !== undefined ? undefined : this.sock.readable?.()
  }

  /** Read one more chunk into the decoder, waiting if need be. False at EOF. */
  async fill (): Promise<boolean> {
    const it = this.it
    if (it === undefined) {
      while (true) {
        const r = this.poll()
        if (r !== undefined) return r
        await this.readable()
      }
    }
    let r: IteratorResult<Uint8Array>
    try {
      r = await it.next()
    } catch (e) {
      throw socketError(e)
    }
    if (r.done === true) return false
    this.took(r.value)
    return true
  }

  private took (chunk: Uint8Array): void {
    this.bytesIn += chunk.length
    this.onChunk?.(chunk)
    this.dec.push(chunk)
  }

  /** The next frame; throws PEER_CLOSED at EOF, ProtocolError on bad input. */
  async next (): Promise<Frame> {
    while (true) {
      const f = this.dec.next()
      if (f !== undefined) return f
      if (!await this.fill()) {
        this.dec.end()
        throw new MessengerError(MessengerErrorCode.PEER_CLOSED, 'peer closed the connection')
      }
    }
  }

  /** Stop reading: lets the socket's iterator clean up. */
  async close (): Promise<void> {
    try { await this.it?.return?.() } catch { // the socket is gone either way
    }
  }
}

function socketError (e: unknown): MessengerError {
  return new MessengerError(MessengerErrorCode.SOCKET_ERROR, (e as Error).message ?? String(e), { cause: e })
}
