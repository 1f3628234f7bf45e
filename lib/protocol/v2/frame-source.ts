// The FrameSource of a msgr2 socket: V2FrameDecoder behind the edge's Frame interface, in two
// modes. While the handshake runs, every unit read (the peer's banner, each control frame) is
// handed over whole, with its raw bytes for AUTH_SIGNATURE, as a `{ kind: 'v2' }` carrier; the
// handshake reads with `expect: 'v2'` and unwraps it. Once the session is open, frames become
// the edge's kinds: MESSAGE → 'msg' (a v1-shaped header whose src is the peer's name from the
// ident), ACK → 'ack', KEEPALIVE2(_ACK) → 'keepalive2(_ack)'. The ack_seq every MESSAGE carries
// in its header2 reaches the session as an 'ack' emitted before the message when it advances.
import { V2ErrorCode, isV2Error } from '../../wire-v2/errors.ts'
import { Tag, tagName } from '../../wire-v2/constants.ts'
import { V2FrameDecoder } from '../../wire-v2/decoder.ts'
import type { ReceivedBanner } from '../../wire-v2/decoder.ts'
import type { Frame as V2Frame } from '../../wire-v2/frame.ts'
import { decodeControlFrame } from '../../wire-v2/frames.ts'
import type { ControlFrame } from '../../wire-v2/frames.ts'
import { decodeMessageFrame } from '../../wire-v2/message.ts'
import type { V2Limits } from '../../wire-v2/limits.ts'
import { ErrorCode, ProtocolError } from '../../wire/errors.ts'
import type { EntityName } from '../../wire/entity-name.ts'
import type { Frame, MsgFrame } from '../../wire/frame.ts'
import type { MsgHeader } from '../../wire/header.ts'
import type { DecoderConfig, FrameSource } from '../wire-protocol.ts'

/** What the handshake reads: the peer's banner or one control frame, with the bytes received. */
export type V2Unit =
  | { kind: 'v2', what: 'banner', banner: ReceivedBanner, raw: Uint8Array, offset: number }
  | { kind: 'v2', what: 'frame', frame: ControlFrame, raw: Uint8Array, offset: number }

/** The `expect` of every v2 handshake read step (the carrier's kind). */
export const V2_READ = 'v2'

/**
 * The edge's Frame union (lib/wire/frame.ts) has no member for msgr2 handshake frames; the
 * carrier travels through the edge as an opaque Frame whose kind is 'v2' (the edge's handshake
 * driver only compares kinds). These two functions are the only place that type is bent.
 */
function carry (u: V2Unit): Frame {
  return u as unknown as Frame
}

export function unitOf (f: Frame | undefined): V2Unit {
  if (f === undefined) throw new TypeError('handshake resumed without a frame (expected v2)')
  if ((f as { kind: string }).kind !== V2_READ) {
    throw new ProtocolError(ErrorCode.UNEXPECTED_DATA, `expected a msgr2 handshake frame, got ${f.kind}`, 0)
  }
  return f as unknown as V2Unit
}

const EMPTY = new Uint8Array(0)

export function v2Limits (c: DecoderConfig): Partial<V2Limits> {
  return { maxFrontLen: c.limits.maxFrontLen, maxMiddleLen: c.limits.maxMiddleLen, maxDataLen: c.limits.maxDataLen }
}

export class V2FrameSource implements FrameSource {
  readonly dec: V2FrameDecoder
  private open = false
  private bannerRead = false
  /** The peer's name, the src of every message (set when the session opens). */
  private peer: EntityName = { type: 0, num: 0 }
  /** The highest ack_seq the peer sent, in a MESSAGE header or an ACK. */
  private ackSeen = 0
  private held: MsgFrame | undefined

  constructor (limits: Partial<V2Limits> = {}) {
    this.dec = new V2FrameDecoder({ limits })
  }

  get offset (): number {
    return this.dec.offset
  }

  get isOpen (): boolean {
    return this.open
  }

  push (chunk: Uint8Array): void {
    this.dec.push(chunk)
  }

  end (): void {
    this.dec.end()
  }

  /** The session is open: frames from here on are the session's, from `peer`. */
  openSession (peer: EntityName): void {
    this.open = true
    this.peer = peer
  }

  next (): Frame | undefined {
    if (this.held !== undefined) {
      const m = this.held
      this.held = undefined
      return m
    }
    if (!this.open) return this.nextUnit()
    while (true) {
      const f = this.read()
      if (f === undefined) return undefined
      const out = this.translate(f)
      if (out !== undefined) return out
    }
  }

  /** A frame, skipping those the sender aborted (Ceph drops them and reads on). */
  private read (): V2Frame | undefined {
    while (true) {
      try {
        return this.dec.next()
      } catch (e) {
        if (isV2Error(e) && e.code === V2ErrorCode.FRAME_ABORTED) continue
        throw e
      }
    }
  }

  private nextUnit (): Frame | undefined {
    if (!this.bannerRead) {
      const offset = this.dec.offset
      const b = this.dec.readBanner()
      if (b === undefined) return undefined
      this.bannerRead = true
      return carry({ kind: 'v2', what: 'banner', banner: b, raw: b.raw.slice(), offset })
    }
    const f = this.read()
    if (f === undefined) return undefined
    if (f.tag === Tag.MESSAGE) {
      throw new ProtocolError(ErrorCode.UNEXPECTED_DATA, 'MESSAGE before the session is open', f.offset)
    }
    return carry({ kind: 'v2', what: 'frame', frame: decodeControlFrame(f, this.dec.limits.maxAddrs), raw: f.raw.slice(), offset: f.offset })
  }

  private translate (f: V2Frame): Frame | undefined {
    switch (f.tag) {
      case Tag.MESSAGE:
        return this.message(f)
      case Tag.ACK: {
        const c = decodeControlFrame(f)
        const seq = c.tag === Tag.ACK ? Number(c.seq) : 0
        if (seq > this.ackSeen) this.ackSeen = seq
        return { kind: 'ack', seq }
      }
      case Tag.KEEPALIVE2:
      case Tag.KEEPALIVE2_ACK: {
        const c = decodeControlFrame(f)
        const stamp = c.tag === Tag.KEEPALIVE2 || c.tag === Tag.KEEPALIVE2_ACK ? { sec: c.stamp.sec, nsec: c.stamp.nsec } : { sec: 0, nsec: 0 }
        return f.tag === Tag.KEEPALIVE2 ? { kind: 'keepalive2', stamp } : { kind: 'keepalive2_ack', stamp }
      }
      default:
        throw new ProtocolError(ErrorCode.UNEXPECTED_DATA, `${tagName(f.tag)} on an open session`, f.offset)
    }
  }

  private message (f: V2Frame): Frame {
    const m = decodeMessageFrame(f)
    const h2 = m.header
    const header: MsgHeader = {
      seq: h2.seq,
      tid: h2.tid,
      type: h2.type,
      priority: h2.priority,
      version: h2.version,
      frontLen: m.front.length,
      middleLen: m.middle.length,
      dataLen: m.data.length,
      dataOff: h2.dataOff,
      src: this.peer,
      compatVersion: h2.compatVersion,
      reserved: h2.reserved,
      crc: 0
    }
    const msg: MsgFrame = {
      kind: 'msg',
      header,
      front: m.front.length === 0 ? EMPTY : m.front,
      middle: m.middle.length === 0 ? EMPTY : m.middle,
      data: m.data.length === 0 ? EMPTY : m.data,
      // v2 has no footer on the wire: the frame's crcs (or its GCM tags) were checked instead.
      footer: { frontCrc: 0, middleCrc: 0, dataCrc: 0, sig: 0n, flags: h2.flags },
      dataCrcChecked: true
    }
    if (h2.ackSeq > this.ackSeen) {
      this.ackSeen = h2.ackSeq
      this.held = msg
      return { kind: 'ack', seq: h2.ackSeq }
    }
    return msg
  }
}
