// What the frame decoders hand out, in both crc and secure mode.
import type { ByteQueue } from '../wire/byte-queue.ts'

export type Segments = [Uint8Array, Uint8Array, Uint8Array, Uint8Array]

export interface Frame {
  tag: number
  /** Segments counted in the preamble (1..4); trailing empty ones are not counted. */
  numSegments: number
  /** Always four; those beyond numSegments are empty. Views: valid as long as the caller keeps them. */
  segments: Segments
  /** Alignments announced in the preamble (0 beyond numSegments). Advisory only. */
  aligns: [number, number, number, number]
  /** Preamble flags (0 in every capture; no meaning without compression). */
  flags: number
  /** Stream offset of the frame's first byte. */
  offset: number
  /**
   * The frame exactly as received (ciphertext in secure mode). AUTH_SIGNATURE signs these bytes,
   * banner first, up to the peer's own AUTH_SIGNATURE frame.
   */
  raw: Uint8Array
}

/** One framing (crc or secure) reading whole frames off the decoder's byte queue. */
export interface FrameReader {
  /** A whole frame, or undefined until enough bytes are buffered. Throws V2Error. */
  read (q: ByteQueue): Frame | undefined
  /** True once a frame has been started (its preamble read) but not yet returned. */
  readonly midFrame: boolean
}
