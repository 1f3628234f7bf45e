// The raw-TCP baseline's framing: u32 big-endian length, then that many bytes (one kind byte and
// the payload). FrameParser is a correct incremental parser: frames may be split anywhere across
// chunks, and many frames may share one chunk. Whole frames inside a chunk are sliced without
// copying; a split frame is copied once, when its last byte arrives.

export const MAX_FRAME = 64 * 1024 * 1024

export type FrameHandler = (kind: number, payload: Buffer) => void

export class FrameParser {
  private parts: Buffer[] = []
  private have = 0
  /** Total bytes (header included) of the frame being gathered; -1 = header not complete yet. */
  private need = -1
  private readonly onFrame: FrameHandler
  frames = 0

  constructor (onFrame: FrameHandler) {
    this.onFrame = onFrame
  }

  push (chunk: Buffer): void {
    if (this.parts.length === 0) {
      this.parseWhole(chunk)
      return
    }
    this.parts.push(chunk)
    this.have += chunk.length
    if (this.need < 0 && this.have >= 4) this.need = 4 + this.headerLength()
    if (this.need >= 0 && this.have >= this.need) {
      const buf = Buffer.concat(this.parts, this.have)
      this.parts = []
      this.have = 0
      this.need = -1
      this.parseWhole(buf)
    }
  }

  /** Bytes held that do not make a whole frame yet. */
  get pending (): number {
    return this.have
  }

  private headerLength (): number {
    const h = Buffer.allocUnsafe(4)
    let got = 0
    for (const p of this.parts) {
      const n = Math.min(4 - got, p.length)
      p.copy(h, got, 0, n)
      got += n
      if (got === 4) break
    }
    return checkLength(h.readUInt32BE(0))
  }

  private parseWhole (buf: Buffer): void {
    let off = 0
    const end = buf.length
    while (end - off >= 4) {
      const len = checkLength(buf.readUInt32BE(off))
      if (end - off - 4 < len) break
      this.frames++
      this.onFrame(buf[off + 4], buf.subarray(off + 5, off + 4 + len))
      off += 4 + len
    }
    if (off < end) {
      const rest = buf.subarray(off)
      this.parts = [rest]
      this.have = rest.length
      this.need = rest.length >= 4 ? 4 + checkLength(rest.readUInt32BE(0)) : -1
    }
  }
}

function checkLength (len: number): number {
  if (len < 1 || len > MAX_FRAME) throw new RangeError(`bad frame length ${len}`)
  return len
}

/** The 5-byte frame header for a payload of `payloadLength` bytes. */
export function frameHeader (kind: number, payloadLength: number): Buffer {
  const h = Buffer.allocUnsafe(5)
  h.writeUInt32BE(payloadLength + 1, 0)
  h[4] = kind
  return h
}

/** A whole frame in one buffer (for small control frames). */
export function frame (kind: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const b = Buffer.allocUnsafe(5 + payload.length)
  b.writeUInt32BE(payload.length + 1, 0)
  b[4] = kind
  b.set(payload, 5)
  return b
}

export function u32 (n: number): Buffer {
  const b = Buffer.allocUnsafe(4)
  b.writeUInt32BE(n >>> 0, 0)
  return b
}
