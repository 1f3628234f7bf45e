// The msgr v1 encoder: pure functions from frames to bytes, and a batch that gathers the frames
// of one write into as few buffers as possible (small frames are packed into one buffer; large
// payloads are passed through by reference) so the writer issues one writev per batch.
import {
  BANNER_BYTES, ENTITY_ADDR_LEN, FOOTER_LEN, FOOTER_OLD_LEN, FooterFlag, HEADER_LEN, Tag
} from './constants.ts'
import { encodeConnect, encodeConnectReply, writeU64 } from './connect.ts'
import type { ConnectMsg, ConnectReply } from './connect.ts'
import { crc32c, crc32cCopyInto } from './crc32c.ts'
import { encodeEntityAddr, encodeEntityAddrInto } from './entity-addr.ts'
import type { EntityAddr } from './entity-addr.ts'
import type { Frame, Timespec } from './frame.ts'
import { encodeFooterInto, encodeHeaderFields, writeU32 } from './header.ts'
import { view } from './view.ts'
import type { MsgFooter, MsgHeader } from './header.ts'

export interface CrcOptions {
  /** Ceph's ms_crc_header: header, front and middle crcs. Default true. */
  crcHeader?: boolean
  /** Ceph's ms_crc_data: data crc; when off, the footer carries NOCRC. Default true. */
  crcData?: boolean
}

/** What the encoder needs of a message: the header fields and the three sections. */
export interface OutgoingMessage {
  header: Omit<MsgHeader, 'frontLen' | 'middleLen' | 'dataLen' | 'crc' | 'reserved'> & { reserved?: number }
  front: Uint8Array
  middle: Uint8Array
  data: Uint8Array
  /** Footer signature (0n without cephx signing). */
  sig?: bigint
}

export function encodeBanner (): Uint8Array {
  return BANNER_BYTES.slice()
}

/** What a server sends first: banner, its own address, and the client's address as it sees it. */
export function encodeServerHello (self: EntityAddr, peer: EntityAddr): Uint8Array {
  const out = new Uint8Array(BANNER_BYTES.length + 2 * ENTITY_ADDR_LEN)
  out.set(BANNER_BYTES, 0)
  encodeEntityAddrInto(self, out, BANNER_BYTES.length)
  encodeEntityAddrInto(peer, out, BANNER_BYTES.length + ENTITY_ADDR_LEN)
  return out
}


export { encodeConnect, encodeConnectReply }

/** Bytes a message frame takes on the wire. */
export function messageFrameLength (m: OutgoingMessage, msgAuth: boolean): number {
  return 1 + HEADER_LEN + m.front.length + m.middle.length + m.data.length + (msgAuth ? FOOTER_LEN : FOOTER_OLD_LEN)
}

// Reused for every message: the footer only lives between writing the head and the tail of
// one frame, synchronously.
const scratchFooter: MsgFooter = { frontCrc: 0, middleCrc: 0, dataCrc: 0, sig: 0n, flags: 0 }

/**
 * Write tag + header into `out` at `at` (`dv`: a DataView of `out`, if the caller keeps one) and
 * return the footer to write after the payload, its section crcs still 0. The crcs follow Ceph:
 * header/front/middle under crcHeader, data under crcData (else NOCRC).
 */
function writeMessageHead (m: OutgoingMessage, out: Uint8Array, at: number, crc: CrcOptions, dv?: DataView): MsgFooter {
  out[at] = Tag.MSG
  encodeHeaderFields(m.header, m.front.length, m.middle.length, m.data.length, out, at + 1, crc.crcHeader ?? true, 0, dv)
  // The section crcs are the caller's to fill in (from the sections, or from copying them).
  const f = scratchFooter
  f.frontCrc = f.middleCrc = f.dataCrc = 0
  f.sig = m.sig ?? 0n
  f.flags = (crc.crcData ?? true) ? FooterFlag.COMPLETE : FooterFlag.COMPLETE | FooterFlag.NOCRC
  return f
}

/** One message frame as a list of buffers: [tag+header, front, middle, data, footer] (empties omitted). */
export function encodeMessage (m: OutgoingMessage, msgAuth: boolean, crc: CrcOptions = {}): Uint8Array[] {
  const head = new Uint8Array(1 + HEADER_LEN)
  const footer = writeMessageHead(m, head, 0, crc)
  const crcHeader = crc.crcHeader ?? true
  if (crcHeader && m.front.length > 0) footer.frontCrc = crc32c(m.front)
  if (crcHeader && m.middle.length > 0) footer.middleCrc = crc32c(m.middle)
  if ((crc.crcData ?? true) && m.data.length > 0) footer.dataCrc = crc32c(m.data)
  const foot = new Uint8Array(msgAuth ? FOOTER_LEN : FOOTER_OLD_LEN)
  encodeFooterInto(footer, foot, 0, msgAuth)
  const out: Uint8Array[] = [head]
  if (m.front.length > 0) out.push(m.front)
  if (m.middle.length > 0) out.push(m.middle)
  if (m.data.length > 0) out.push(m.data)
  out.push(foot)
  return out
}

export function encodeAck (seq: number): Uint8Array {
  const out = new Uint8Array(9)
  out[0] = Tag.ACK
  writeU64(out, 1, seq)
  return out
}

export function encodeKeepalive (): Uint8Array {
  return Uint8Array.of(Tag.KEEPALIVE)
}

export function encodeKeepalive2 (stamp: Timespec, ack = false): Uint8Array {
  const out = new Uint8Array(9)
  out[0] = ack ? Tag.KEEPALIVE2_ACK : Tag.KEEPALIVE2
  writeU32(out, 1, stamp.sec >>> 0)
  writeU32(out, 5, stamp.nsec >>> 0)
  return out
}

export function encodeClose (): Uint8Array {
  return Uint8Array.of(Tag.CLOSE)
}

export function timespecNow (nowMs = Date.now()): Timespec {
  const sec = Math.floor(nowMs / 1000)
  return { sec, nsec: Math.floor((nowMs - sec * 1000) * 1e6) }
}

/**
 * Encode any frame the decoder yields back into bytes (used by tests, the decode CLI and
 * replay tools). `msgAuth` picks the footer layout of MSG frames.
 */
export function encodeFrame (f: Frame, msgAuth: boolean, crc: CrcOptions = {}): Uint8Array[] {
  switch (f.kind) {
    case 'banner': return [encodeBanner()]
    case 'addr': return [encodeEntityAddr(f.addr)]
    case 'connect': return [encodeConnect(f.connect)]
    case 'connect_reply': return [encodeConnectReply(f.reply)]
    case 'seq': { const b = new Uint8Array(8); writeU64(b, 0, f.seq); return [b] }
    case 'ack': return [encodeAck(f.seq)]
    case 'keepalive': return [encodeKeepalive()]
    case 'keepalive2': return [encodeKeepalive2(f.stamp)]
    case 'keepalive2_ack': return [encodeKeepalive2(f.stamp, true)]
    case 'close': return [encodeClose()]
    case 'msg':
      // The lengths and crc in f.header are ignored: they are recomputed from the sections.
      return encodeMessage({ header: f.header, front: f.front, middle: f.middle, data: f.data, sig: f.footer.sig }, msgAuth, crc)
  }
}

/** Re-export for callers building replies. */
export type { ConnectMsg, ConnectReply }

/**
 * Gathers the frames of one write. Frames and small payloads are copied into a shared buffer;
 * payloads of at least `inlineMax` bytes are referenced, not copied. flush() returns the list
 * to hand to one writev (socket.cork/uncork or a single write of a joined buffer).
 */
const EMPTY_BLOCK = new Uint8Array(0)
const EMPTY_DV = new DataView(EMPTY_BLOCK.buffer)

// Write batches carve their blocks from one shared slab: a batch takes the whole free tail while
// it builds (nothing else runs in between), and an idle writer gives back what it did not use.
// So busy connections do not allocate per wake-up, and idle ones hold no buffer at all.
let shared = new Uint8Array(0)
let sharedPos = 0

function carve (min: number, size: number): Uint8Array {
  if (shared.length - sharedPos < Math.max(min, 4096)) {
    // Not zero-filled: every byte handed out is written before it is sent.
    const n = Math.max(size, min)
    shared = new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n)
    sharedPos = 0
  }
  const out = view(shared, sharedPos, shared.length)
  sharedPos = shared.length
  return out
}

function giveBack (block: Uint8Array, used: number): void {
  // Only the tail we took can be returned; anything else is simply dropped.
  if (block.buffer === shared.buffer && block.byteOffset + block.length === shared.byteOffset + shared.length) {
    sharedPos = block.byteOffset - shared.byteOffset + used
  }
}

export class WriteBatch {
  private bufs: Uint8Array[] = []
  private cur: Uint8Array
  /** A DataView of `cur` (same offsets), made when the block changes, not per frame. */
  private dv: DataView = EMPTY_DV
  private pos = 0
  private readonly blockSize: number
  private readonly inlineMax: number
  /** Bytes in this batch. */
  bytes = 0
  frames = 0

  constructor (blockSize = 64 * 1024, inlineMax = 4096) {
    this.blockSize = blockSize
    this.inlineMax = inlineMax
    // Allocated on first use, and dropped by release() while idle, so an idle connection
    // holds no write buffer.
    this.cur = EMPTY_BLOCK
  }

  /** Let go of the block (an idle writer calls this before it waits). */
  release (): void {
    if (this.bytes === 0) {
      giveBack(this.cur, this.pos)
      this.setBlock(EMPTY_BLOCK)
      this.pos = 0
    }
  }

  private room (n: number): void {
    if (this.cur.length - this.pos >= n) return
    this.seal()
    this.setBlock(n > this.blockSize ? new Uint8Array(n) : carve(n, this.blockSize))
    this.pos = 0
  }

  private setBlock (b: Uint8Array): void {
    this.cur = b
    this.dv = b.length === 0 ? EMPTY_DV : new DataView(b.buffer, b.byteOffset, b.length)
  }

  private seal (): void {
    if (this.pos > 0) {
      this.bufs.push(view(this.cur, 0, this.pos))
      this.setBlock(view(this.cur, this.pos, this.cur.length))
      this.pos = 0
    }
  }

  /** Append raw bytes (copied when small, referenced when large). */
  append (b: Uint8Array): void {
    const n = b.length
    if (n === 0) return
    this.bytes += n
    if (n >= this.inlineMax) {
      this.seal()
      this.bufs.push(b)
      return
    }
    this.room(n)
    this.cur.set(b, this.pos)
    this.pos += n
  }

  appendMessage (m: OutgoingMessage, msgAuth: boolean, crc: CrcOptions = {}): void {
    const crcHeader = crc.crcHeader ?? true
    this.frames++
    this.room(1 + HEADER_LEN)
    const f = writeMessageHead(m, this.cur, this.pos, crc, this.dv)
    this.pos += 1 + HEADER_LEN
    this.bytes += 1 + HEADER_LEN
    // Each section's crc comes from its copy into the block (small ones) or from the section.
    f.frontCrc = this.appendSection(m.front, crcHeader)
    f.middleCrc = this.appendSection(m.middle, crcHeader)
    f.dataCrc = this.appendSection(m.data, crc.crcData ?? true)
    const fl = msgAuth ? FOOTER_LEN : FOOTER_OLD_LEN
    this.room(fl)
    encodeFooterInto(f, this.cur, this.pos, msgAuth, this.dv)
    this.pos += fl
    this.bytes += fl
  }

  /** append() a section and return its crc (0 when empty or not wanted). */
  private appendSection (b: Uint8Array, withCrc: boolean): number {
    const n = b.length
    if (n === 0) return 0
    if (!withCrc || n >= this.inlineMax) {
      this.append(b)
      return withCrc ? crc32c(b) : 0
    }
    this.bytes += n
    this.room(n)
    const c = crc32cCopyInto(b, this.cur, this.dv, this.pos)
    this.pos += n
    return c
  }

  appendAck (seq: number): void {
    this.frames++
    this.room(9)
    this.cur[this.pos] = Tag.ACK
    writeU64(this.cur, this.pos + 1, seq)
    this.pos += 9
    this.bytes += 9
  }

  appendKeepalive2 (stamp: Timespec, ack = false): void {
    this.frames++
    this.append(encodeKeepalive2(stamp, ack))
  }

  get empty (): boolean {
    return this.bytes === 0
  }

  /** The gathered buffers; the batch is empty afterwards and reuses what is left of its block. */
  flush (): Uint8Array[] {
    this.seal()
    const out = this.bufs
    this.bufs = []
    this.bytes = 0
    this.frames = 0
    return out
  }
}
