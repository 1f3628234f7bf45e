// The streaming, synchronous msgr v1 decoder for one direction of one connection.
//
// It knows the phase of the conversation (banner → addresses → connect / connect_reply [→ seq]
// → tagged frames), takes bytes in chunks of any size with push(), and hands out whole frames
// with next(). Every length from the wire is checked against the limits, and the header crc is
// verified, before the payload is waited for or allocated. Failures are ProtocolErrors only.
//
// Role 'client' decodes what a server sends to us; role 'server' decodes what a client sends.
// The server side cannot know from its own input what follows a connect (another connect after a
// RETRY reply, the client's u64 after SEQ, or frames after READY): that is the session's decision,
// so the decoder pauses after each connect until expect() is called.
import {
  BANNER_BYTES, BANNER_LEN, CONNECT_LEN, CONNECT_REPLY_LEN, ENTITY_ADDR_LEN, FOOTER_LEN, FOOTER_OLD_LEN,
  FooterFlag, HEADER_LEN, Tag, TIMESPEC_LEN
} from './constants.ts'
import { decodeConnectFixed, decodeConnectReplyFixed, readU64 } from './connect.ts'
import { crc32c, crc32cAt } from './crc32c.ts'
import { decodeEntityAddr } from './entity-addr.ts'
import { ErrorCode, ProtocolError } from './errors.ts'
import { DEFAULT_FEATURES_SUPPORTED, Feature } from './features.ts'
import type { Frame, MsgFrame, Timespec } from './frame.ts'
import { blankFooter, blankHeader, decodeFooterInto, decodeFooterView, decodeHeaderInto, decodeHeaderView, headerCrc, readU32 } from './header.ts'
import type { MsgFooter, MsgHeader } from './header.ts'
import type { EntityName } from './entity-name.ts'
import { ByteQueue, uninitialized } from './byte-queue.ts'
import { view } from './view.ts'
import { DEFAULT_LIMITS } from './limits.ts'
import { PayloadLease } from './payload-pool.ts'
import type { PayloadPool } from './payload-pool.ts'
import type { DecoderLimits } from './limits.ts'

export type DecoderRole = 'client' | 'server'
export type Phase = 'banner' | 'self_addr' | 'peer_addr' | 'connect' | 'connect_reply' | 'seq' | 'tags' | 'paused' | 'closed'

export interface DecoderOptions {
  role: DecoderRole
  /** Our supported features: ANDed with the peer's to pick the footer layout. */
  features?: bigint
  limits?: Partial<DecoderLimits>
  /** Check header, front and middle crcs (Ceph's ms_crc_header). Default true. */
  crcHeader?: boolean
  /** Check data crcs unless the sender set NOCRC (Ceph's ms_crc_data). Default true. */
  crcData?: boolean
  /** Start in this phase instead of 'banner' (e.g. 'tags' for a stream past its handshake). */
  phase?: Phase
  /** Footer layout when starting in 'tags': true = 21-byte footer (MSG_AUTH negotiated). */
  msgAuth?: boolean
  /** Payloads shorter than this are copied out of the socket chunk so they don't pin it. */
  copyBelow?: number
  /** Where large payloads that span chunks are gathered (reused once their message is put()). */
  pool?: PayloadPool
  /**
   * Return the same MsgFrame object (with the same header and footer objects) for every
   * message, refilled: no three objects per message. The caller must be done with a frame
   * (its sections stay valid; they are never reused) before it asks for the next one.
   */
  reuseFrames?: boolean
}

export class FrameDecoder {
  readonly role: DecoderRole
  readonly limits: DecoderLimits
  private readonly q = new ByteQueue()
  private readonly ourFeatures: bigint
  private readonly crcHeader: boolean
  private readonly crcData: boolean
  private readonly copyBelow: number
  private readonly pool: PayloadPool | undefined
  /** With reuseFrames: the one frame, header and footer refilled for each message. */
  private readonly msgFrame: MsgFrame | undefined
  private phaseNow: Phase
  private msgAuth: boolean
  private footerLen: number
  /** The features both sides support, once the connect (server) or reply (client) is seen. */
  negotiatedFeatures = 0n
  /** The src of the last header (shared with the next one when equal). */
  private lastSrc: EntityName | undefined
  /** A validated header whose payload has not fully arrived yet. */
  private pending: MsgHeader | undefined
  /** Stream offset of the pending header's payload. */
  private pendingStart = 0
  /**
   * A large payload being gathered as it arrives (front + middle + data in one buffer): each
   * socket chunk is copied out and let go as soon as it is read, instead of waiting, pinned, for
   * the rest of the message. Chunks that wait survive scavenges, reach the old generation and
   * are only freed by full collections.
   */
  private assembly: Uint8Array | undefined
  private assembled = 0
  /**
   * The crcs of the sections (front, middle, data) as computed, for checkCrcs(). A gathered
   * payload's are chained as each piece is copied in, while it is still in the cache (a second
   * pass over a 1 MiB payload afterwards reads it from memory); a small copied one's are
   * computed by the copy itself.
   */
  private readonly crcs = [0, 0, 0]

  constructor (opts: DecoderOptions) {
    this.role = opts.role
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits }
    this.ourFeatures = opts.features ?? DEFAULT_FEATURES_SUPPORTED
    this.crcHeader = opts.crcHeader ?? true
    this.crcData = opts.crcData ?? true
    this.copyBelow = opts.copyBelow ?? 0
    this.pool = opts.pool
    this.msgFrame = opts.reuseFrames === true
      ? { kind: 'msg', header: blankHeader(), front: EMPTY_PAYLOAD, middle: EMPTY_PAYLOAD, data: EMPTY_PAYLOAD, footer: blankFooter(), dataCrcChecked: false, lease: undefined }
      : undefined
    this.phaseNow = opts.phase ?? 'banner'
    this.msgAuth = opts.msgAuth ?? true
    this.footerLen = this.msgAuth ? FOOTER_LEN : FOOTER_OLD_LEN
  }

  get phase (): Phase {
    return this.phaseNow
  }

  /** Stream offset of the next unread byte. */
  get offset (): number {
    return this.q.consumed
  }

  /** Bytes received but not yet decoded. */
  get buffered (): number {
    return this.q.length
  }

  push (chunk: Uint8Array): void {
    this.q.push(chunk)
  }

  /** Server role: what the peer sends after the connect we just answered. */
  expect (phase: 'connect' | 'seq' | 'tags'): void {
    this.phaseNow = phase
  }

  /** Pick the footer layout from negotiated features (MSG_AUTH → 21 bytes, else 13). */
  setNegotiatedFeatures (features: bigint): void {
    this.negotiatedFeatures = features
    this.msgAuth = (features & Feature.MSG_AUTH) !== 0n
    this.footerLen = this.msgAuth ? FOOTER_LEN : FOOTER_OLD_LEN
  }

  /** No more frames are expected (after CLOSE, or a refusal); further bytes are an error. */
  close (): void {
    this.phaseNow = 'closed'
  }

  /**
   * At end of stream: bytes left over mean the peer stopped mid-frame.
   * Throws TRUNCATED in that case.
   */
  end (): void {
    if (this.q.length > 0 || this.pending !== undefined) {
      throw new ProtocolError(ErrorCode.TRUNCATED, `stream ended inside a frame (${this.q.length} bytes left over)`, this.q.consumed)
    }
  }

  /** All frames decodable from what has been pushed so far. */
  drain (): Frame[] {
    const out: Frame[] = []
    for (let f = this.next(); f !== undefined; f = this.next()) out.push(f)
    return out
  }

  /** The next whole frame, or undefined when more bytes are needed (or the decoder is paused). */
  next (): Frame | undefined {
    switch (this.phaseNow) {
      case 'tags': return this.nextTagged()
      case 'banner': return this.nextBanner()
      case 'self_addr':
      case 'peer_addr': return this.nextAddr()
      case 'connect': return this.nextConnect()
      case 'connect_reply': return this.nextConnectReply()
      case 'seq': return this.nextSeq()
      case 'paused': return undefined
      case 'closed':
        if (this.q.length > 0) throw new ProtocolError(ErrorCode.UNEXPECTED_DATA, 'bytes after the conversation ended', this.q.consumed)
        return undefined
    }
  }

  private nextBanner (): Frame | undefined {
    const q = this.q
    // Check what has arrived so far, so garbage is refused without waiting for 9 bytes.
    const n = Math.min(q.length, BANNER_LEN)
    for (let i = 0; i < n; i++) {
      if (q.byteAt(i) !== BANNER_BYTES[i]) {
        throw new ProtocolError(ErrorCode.BAD_BANNER, 'peer did not send the "ceph v027" banner', q.consumed + i)
      }
    }
    if (n < BANNER_LEN) return undefined
    q.skip(BANNER_LEN)
    this.phaseNow = 'self_addr'
    return { kind: 'banner' }
  }

  private nextAddr (): Frame | undefined {
    const q = this.q
    if (q.length < ENTITY_ADDR_LEN) return undefined
    const at = q.consumed
    const addr = decodeEntityAddr(q.peek(ENTITY_ADDR_LEN), 0, at)
    q.skip(ENTITY_ADDR_LEN)
    if (this.phaseNow === 'self_addr') {
      // A server sends its own address and then ours; a client sends only its own.
      this.phaseNow = this.role === 'client' ? 'peer_addr' : 'connect'
      return { kind: 'addr', which: 'self', addr }
    }
    this.phaseNow = 'connect_reply'
    return { kind: 'addr', which: 'peer', addr }
  }

  private nextConnect (): Frame | undefined {
    const q = this.q
    if (q.length < CONNECT_LEN) return undefined
    const fixed = q.peek(CONNECT_LEN)
    const connect = decodeConnectFixed(fixed)
    if (connect.authorizerLen > this.limits.maxAuthorizerLen) {
      throw new ProtocolError(ErrorCode.BAD_AUTHORIZER_LEN, `authorizer of ${connect.authorizerLen} bytes`, q.consumed + 28)
    }
    if (q.length < CONNECT_LEN + connect.authorizerLen) return undefined
    q.skip(CONNECT_LEN)
    connect.authorizer = q.takeCopy(connect.authorizerLen)
    this.setNegotiatedFeatures(this.ourFeatures & connect.features)
    this.phaseNow = 'paused'
    return { kind: 'connect', connect }
  }

  private nextConnectReply (): Frame | undefined {
    const q = this.q
    if (q.length < CONNECT_REPLY_LEN) return undefined
    const reply = decodeConnectReplyFixed(q.peek(CONNECT_REPLY_LEN))
    if (reply.authorizerLen > this.limits.maxAuthorizerLen) {
      throw new ProtocolError(ErrorCode.BAD_AUTHORIZER_LEN, `authorizer of ${reply.authorizerLen} bytes`, q.consumed + 21)
    }
    if (reply.tag < Tag.READY || reply.tag > Tag.CHALLENGE_AUTHORIZER || reply.tag === Tag.CLOSE ||
        reply.tag === Tag.MSG || reply.tag === Tag.ACK || reply.tag === Tag.KEEPALIVE ||
        reply.tag === Tag.KEEPALIVE2 || reply.tag === Tag.KEEPALIVE2_ACK) {
      throw new ProtocolError(ErrorCode.UNKNOWN_TAG, `connect_reply tag ${reply.tag}`, q.consumed)
    }
    if (q.length < CONNECT_REPLY_LEN + reply.authorizerLen) return undefined
    q.skip(CONNECT_REPLY_LEN)
    reply.authorizer = q.takeCopy(reply.authorizerLen)
    if (reply.tag === Tag.READY || reply.tag === Tag.SEQ) {
      this.setNegotiatedFeatures(this.ourFeatures & reply.features)
      this.phaseNow = reply.tag === Tag.SEQ ? 'seq' : 'tags'
    }
    // Any other tag: the client answers with another connect, and the server with another reply.
    return { kind: 'connect_reply', reply }
  }

  private nextSeq (): Frame | undefined {
    const q = this.q
    if (q.length < 8) return undefined
    const seq = readU64(q.peek(8), 0)
    q.skip(8)
    this.phaseNow = 'tags'
    return { kind: 'seq', seq }
  }

  private nextTagged (): Frame | undefined {
    const q = this.q
    if (this.pending !== undefined) return this.nextPayload(this.pending)
    if (q.length === 0) return undefined
    const tag = q.byteAt(0)
    switch (tag) {
      case Tag.MSG: return this.nextHeader()
      case Tag.ACK: {
        if (q.length < 9) return undefined
        q.skip(1)
        const seq = readU64(q.peek(8), 0)
        q.skip(8)
        return { kind: 'ack', seq }
      }
      case Tag.KEEPALIVE:
        q.skip(1)
        return { kind: 'keepalive' }
      case Tag.KEEPALIVE2:
      case Tag.KEEPALIVE2_ACK: {
        if (q.length < 1 + TIMESPEC_LEN) return undefined
        q.skip(1)
        const b = q.peek(TIMESPEC_LEN)
        const stamp: Timespec = { sec: readU32(b, 0), nsec: readU32(b, 4) }
        q.skip(TIMESPEC_LEN)
        return tag === Tag.KEEPALIVE2 ? { kind: 'keepalive2', stamp } : { kind: 'keepalive2_ack', stamp }
      }
      case Tag.CLOSE:
        q.skip(1)
        this.phaseNow = 'closed'
        return { kind: 'close' }
      default:
        throw new ProtocolError(ErrorCode.UNKNOWN_TAG, `tag ${tag} is not valid on an open session`, q.consumed)
    }
  }

  private nextHeader (): Frame | undefined {
    const q = this.q
    if (q.length < 1 + HEADER_LEN) return undefined
    const start = q.consumed
    // Parse in place when the header lies in one chunk (the common case), else from a copy.
    let buf: Uint8Array
    let at: number
    let header: MsgHeader
    const into = this.msgFrame?.header ?? blankHeader()
    if (q.contiguousLength() >= 1 + HEADER_LEN) {
      buf = q.headChunk()
      at = q.headOffset + 1
      header = decodeHeaderView(into, q.headView(), at, this.lastSrc)
    } else {
      buf = q.peek(1 + HEADER_LEN)
      at = 1
      header = decodeHeaderInto(into, buf, at, this.lastSrc)
    }
    this.lastSrc = header.src
    if (this.crcHeader) {
      const crc = headerCrc(buf, at)
      if (crc !== header.crc) {
        throw new ProtocolError(ErrorCode.BAD_HEADER_CRC, `header crc 0x${header.crc.toString(16)} != computed 0x${crc.toString(16)}`, start + 1)
      }
    }
    const l = this.limits
    if (header.frontLen > l.maxFrontLen) throw tooLarge('front', header.frontLen, l.maxFrontLen, start + 1 + 22)
    if (header.middleLen > l.maxMiddleLen) throw tooLarge('middle', header.middleLen, l.maxMiddleLen, start + 1 + 26)
    if (header.dataLen > l.maxDataLen) throw tooLarge('data', header.dataLen, l.maxDataLen, start + 1 + 30)
    q.skip(1 + HEADER_LEN)
    this.pending = header
    this.pendingStart = q.consumed
    return this.nextPayload(header)
  }

  /** Bytes set aside for a large payload being gathered (0 when none). */
  get reserved (): number {
    return this.assembly === undefined ? 0 : this.assembly.length
  }

  /** Peek at a validated header that is still waiting for its payload (for throttling). */
  get pendingHeader (): MsgHeader | undefined {
    return this.pending
  }

  private nextPayload (h: MsgHeader): Frame | undefined {
    const q = this.q
    const fl = this.footerLen
    const payloadLen = h.frontLen + h.middleLen + h.dataLen
    const total = payloadLen + fl
    const base = this.pendingStart
    let front: Uint8Array
    let middle: Uint8Array
    let data: Uint8Array
    let footer: MsgFooter
    let lease: PayloadLease | undefined
    if (this.assembly !== undefined ||
        (payloadLen >= ASSEMBLE_FROM && q.contiguousLength() < total && q.length * ASSEMBLE_AFTER_PART >= payloadLen)) {
      // Large and split across chunks: it will be copied into one buffer anyway, so copy
      // each chunk's share now. Not before an eighth of it is here: a header alone must not
      // make us reserve what its lengths claim (up to the limits) for bytes never sent.
      let buf = this.assembly
      if (buf === undefined) {
        try {
          buf = this.pool !== undefined ? this.pool.acquire(payloadLen) : uninitialized(payloadLen)
        } catch (e) {
          throw new ProtocolError(ErrorCode.TOO_LARGE, `cannot allocate ${payloadLen} bytes for a payload: ${(e as Error).message}`, this.pendingStart)
        }
        this.assembly = buf
        this.assembled = 0
        this.crcs[0] = this.crcs[1] = this.crcs[2] = 0
      }
      const n = Math.min(q.length, payloadLen - this.assembled)
      if (n > 0) {
        q.takeInto(buf, this.assembled, n)
        this.crcGathered(h, buf, this.assembled, this.assembled + n)
        this.assembled += n
      }
      if (this.assembled < payloadLen || q.length < fl) return undefined
      this.assembly = undefined
      if (this.pool !== undefined) lease = new PayloadLease(this.pool, buf.buffer as ArrayBuffer)
      front = h.frontLen === 0 ? EMPTY_PAYLOAD : view(buf, 0, h.frontLen)
      middle = h.middleLen === 0 ? EMPTY_PAYLOAD : view(buf, h.frontLen, h.frontLen + h.middleLen)
      data = h.dataLen === 0 ? EMPTY_PAYLOAD : view(buf, h.frontLen + h.middleLen, payloadLen)
      footer = this.takeFooter()
      this.checkCrcs(h, footer, base)
    } else if (q.contiguousLength() >= total) {
      // The whole message is in this chunk (small ones nearly always are): read the footer in
      // place, then take the sections, each crc computed over the chunk or by the copy.
      footer = decodeFooterView(this.msgFrame?.footer ?? blankFooter(), q.headView(), q.headOffset + payloadLen, this.msgAuth)
      const ch = this.crcHeader
      front = this.takeSection(h.frontLen, ch, 0)
      middle = this.takeSection(h.middleLen, ch, 1)
      data = this.takeSection(h.dataLen, this.crcData && (footer.flags & FooterFlag.NOCRC) === 0, 2)
      q.skip(fl)
      this.checkCrcs(h, footer, base)
    } else {
      if (q.length < total) return undefined
      front = this.takePayload(h.frontLen)
      middle = this.takePayload(h.middleLen)
      data = this.takePayload(h.dataLen)
      footer = this.takeFooter()
      const c = this.crcs
      if (this.crcHeader) {
        c[0] = crcOf(front)
        c[1] = crcOf(middle)
      }
      if (this.crcData && (footer.flags & FooterFlag.NOCRC) === 0) c[2] = crcOf(data)
      this.checkCrcs(h, footer, base)
    }
    this.pending = undefined
    const dataCrcChecked = this.crcData && (footer.flags & FooterFlag.NOCRC) === 0
    const f = this.msgFrame
    if (f === undefined) return { kind: 'msg', header: h, front, middle, data, footer, dataCrcChecked, lease }
    f.front = front
    f.middle = middle
    f.data = data
    f.dataCrcChecked = dataCrcChecked
    f.lease = lease
    return f
  }

  private takeFooter (): MsgFooter {
    const q = this.q
    const fl = this.footerLen
    // In place when the footer lies in one chunk (the usual case), else from a copy.
    const into = this.msgFrame?.footer ?? blankFooter()
    const footer = q.contiguousLength() >= fl
      ? decodeFooterView(into, q.headView(), q.headOffset, this.msgAuth)
      : decodeFooterInto(into, q.peek(fl), 0, this.msgAuth)
    q.skip(fl)
    return footer
  }

  /**
   * Check a message's footer: COMPLETE, and as configured the crcs of its sections, which lie at
   * `fb[fs..]`, `mb[ms..]` and `db[ds..]` with the header's lengths (separate buffers, or ranges of
   * one chunk). A crc is computed only when it is to be checked.
   */
  /** Chain the crcs of the sections that buf[from, to) (just gathered) belongs to. */
  private crcGathered (h: MsgHeader, buf: Uint8Array, from: number, to: number): void {
    const ends0 = h.frontLen
    const ends1 = ends0 + h.middleLen
    const c = this.crcs
    if (this.crcHeader) {
      if (from < ends0) c[0] = crc32cAt(buf, from, Math.min(to, ends0), c[0])
      if (from < ends1 && to > ends0) c[1] = crc32cAt(buf, Math.max(from, ends0), Math.min(to, ends1), c[1])
    }
    if (this.crcData && to > ends1) c[2] = crc32cAt(buf, Math.max(from, ends1), to, c[2])
  }

  /**
   * Check a message's footer: COMPLETE, and as configured the crcs of its sections against the
   * ones computed (this.crcs; each is computed only when it is to be checked).
   */
  private checkCrcs (h: MsgHeader, footer: MsgFooter, base: number): void {
    if ((footer.flags & FooterFlag.COMPLETE) === 0) {
      throw new ProtocolError(ErrorCode.MSG_ABORTED, 'footer lacks the COMPLETE flag', base + h.frontLen + h.middleLen + h.dataLen + this.footerLen - 1)
    }
    const c = this.crcs
    if (this.crcHeader) {
      if (c[0] !== footer.frontCrc) throw new ProtocolError(ErrorCode.BAD_FRONT_CRC, 'front crc mismatch', base)
      if (c[1] !== footer.middleCrc) throw new ProtocolError(ErrorCode.BAD_MIDDLE_CRC, 'middle crc mismatch', base + h.frontLen)
    }
    if (this.crcData && (footer.flags & FooterFlag.NOCRC) === 0 && c[2] !== footer.dataCrc) {
      throw new ProtocolError(ErrorCode.BAD_DATA_CRC, 'data crc mismatch', base + h.frontLen + h.middleLen)
    }
  }

  /**
   * Take the next n bytes, which lie in the head chunk, as section `i`; with `check`, its crc
   * goes to crcs[i].
   */
  private takeSection (n: number, check: boolean, i: number): Uint8Array {
    const q = this.q
    if (n === 0) {
      this.crcs[i] = 0
      return EMPTY_PAYLOAD
    }
    if (n < this.copyBelow) {
      const out = q.takeCopy(n, check)
      if (check) this.crcs[i] = q.copyCrc
      return out
    }
    if (check) this.crcs[i] = crc32cAt(q.headChunk(), q.headOffset, q.headOffset + n)
    return q.take(n)
  }

  private takePayload (n: number): Uint8Array {
    if (n === 0) return EMPTY_PAYLOAD
    return n < this.copyBelow ? this.q.takeCopy(n) : this.q.take(n)
  }
}

const EMPTY_PAYLOAD = new Uint8Array(0)

/** crc of a section: 0 when empty (what an empty section's footer field holds). */
function crcOf (b: Uint8Array): number {
  return b.length === 0 ? 0 : crc32c(b)
}

/**
 * Payloads at least this long that do not lie in one received chunk are gathered as they arrive
 * (Node reads TCP in chunks of up to 64 KiB, so such a payload is copied in any case).
 */
const ASSEMBLE_FROM = 64 * 1024
/** Gathering starts once 1/ASSEMBLE_AFTER_PART of the payload has arrived. */
const ASSEMBLE_AFTER_PART = 8

function tooLarge (what: string, len: number, max: number, offset: number): ProtocolError {
  return new ProtocolError(ErrorCode.TOO_LARGE, `${what} of ${len} bytes exceeds the limit of ${max}`, offset)
}
