// Decode both directions of one recorded v1 conversation (e.g. two halves of a capture) in
// causal order. The two decoders depend on each other: the server's reply decides what the
// client sends after its connect, and the features of both sides decide the footer layout.
import { Tag } from './constants.ts'
import { FrameDecoder } from './decoder.ts'
import type { DecoderOptions } from './decoder.ts'
import { ProtocolError } from './errors.ts'
import type { Frame } from './frame.ts'

export type Side = 'client' | 'server'

export interface ConversationFrame {
  from: Side
  frame: Frame
  /** Offset of the frame's first byte in its direction's stream. */
  offset: number
}

export class ConversationError extends Error {
  override readonly name = 'ConversationError'
  readonly from: Side
  override readonly cause: ProtocolError
  constructor (from: Side, cause: ProtocolError) {
    super(`${from} stream: ${cause.message}`)
    this.from = from
    this.cause = cause
  }
}

type Opts = Omit<DecoderOptions, 'role' | 'features' | 'phase'>

/**
 * Yields every frame of the conversation. Throws ConversationError wrapping the first
 * ProtocolError of either direction, including bytes left over at the end of a stream.
 */
export function * decodeConversation (clientBytes: Uint8Array, serverBytes: Uint8Array, opts: Opts = {}): Generator<ConversationFrame> {
  // Decode with every feature on our side: what the stream's own sender offered decides.
  const all = (1n << 64n) - 1n
  const fromClient = new FrameDecoder({ ...opts, role: 'server', features: all })
  const fromServer = new FrameDecoder({ ...opts, role: 'client', features: all })
  fromClient.push(clientBytes)
  fromServer.push(serverBytes)
  let clientFeatures = all

  function * pull (side: Side, until?: (f: Frame) => boolean): Generator<ConversationFrame, Frame | undefined> {
    const dec = side === 'client' ? fromClient : fromServer
    while (true) {
      const offset = dec.offset
      let f: Frame | undefined
      try {
        f = dec.next()
      } catch (e) {
        if (e instanceof ProtocolError) throw new ConversationError(side, e)
        throw e
      }
      if (f === undefined) return undefined
      yield { from: side, frame: f, offset }
      if (until !== undefined && until(f)) return f
    }
  }

  yield * pull('client', (f) => f.kind === 'banner')
  yield * pull('server', (f) => f.kind === 'addr' && f.which === 'peer')
  while (true) {
    const c = yield * pull('client', (f) => f.kind === 'connect')
    if (c === undefined || c.kind !== 'connect') break
    clientFeatures = c.connect.features
    const r = yield * pull('server', (f) => f.kind === 'connect_reply')
    if (r === undefined || r.kind !== 'connect_reply') break
    const tag = r.reply.tag
    if (tag === Tag.READY || tag === Tag.SEQ) {
      const negotiated = clientFeatures & r.reply.features
      fromClient.setNegotiatedFeatures(negotiated)
      fromServer.setNegotiatedFeatures(negotiated)
      if (tag === Tag.SEQ) {
        yield * pull('server', (f) => f.kind === 'seq')
        fromClient.expect('seq')
        yield * pull('client', (f) => f.kind === 'seq')
      } else {
        fromClient.expect('tags')
      }
      break
    }
    if (tag === Tag.WAIT || tag === Tag.FEATURES || tag === Tag.BADPROTOVER || tag === Tag.BADAUTHORIZER) {
      // The client gives up on this socket; anything after is not part of the conversation.
      fromClient.close()
      break
    }
    fromClient.expect('connect')
  }
  yield * pull('client')
  yield * pull('server')
  for (const [side, dec] of [['client', fromClient], ['server', fromServer]] as const) {
    try {
      if (dec.phase !== 'closed') dec.end()
    } catch (e) {
      if (e instanceof ProtocolError) throw new ConversationError(side, e)
      throw e
    }
  }
}
