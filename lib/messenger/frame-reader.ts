// Pulls frames out of a socket's byte source through a FrameDecoder: one awaited read per chunk,
// then every frame in it synchronously. Used for the handshake (frame at a time) and by the
// open-session read loop (batch at a time).
import { FrameDecoder } from '../wire/decoder.ts'
import type { Frame } from '../wire/frame.ts'
import { MessengerError, MessengerErrorCode } from './errors.ts'
import type { MsgrSocket } from './socket.ts'

export class FrameReader {
  readonly dec: FrameDecoder
  private readonly it: AsyncIterator<Uint8Array>
  /** Called for each chunk read (counters, fault injection). May throw to fault the socket. */
  onChunk: ((chunk: Uint8Array) => void) | undefined
  bytesIn = 0

  constructor (sock: MsgrSocket, dec: FrameDecoder) {
    this.dec = dec
    this.it = sock.source[Symbol.asyncIterator]()
  }

  /** Read one more chunk into the decoder. False at EOF (after checking nothing was cut off). */
  async fill (): Promise<boolean> {
    let r: IteratorResult<Uint8Array>
    try {
      r = await this.it.next()
    } catch (e) {
      throw new MessengerError(MessengerErrorCode.SOCKET_ERROR, (e as Error).message ?? String(e), { cause: e })
    }
    if (r.done === true) return false
    this.bytesIn += r.value.length
    this.onChunk?.(r.value)
    this.dec.push(r.value)
    return true
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
    try { await this.it.return?.() } catch { // the socket is gone either way
    }
  }
}
