// The streaming msgr2.1 decoder for one direction of one connection, sans-IO: push() the bytes
// as they arrive, then readBanner() once and next() for each frame. Frames start in crc mode;
// enableSecure() switches to secure mode at the current frame boundary (after the peer's
// AUTH_DONE or last AUTH_REQUEST_MORE), and bytes already buffered are read in the new mode.
// Errors are V2Errors only. Any error but FRAME_ABORTED is final: later calls rethrow it.
import { ByteQueue } from '../wire/byte-queue.ts'
import { bannerLength, decodeBanner } from './banner.ts'
import type { Banner } from './banner.ts'
import { CrcFrameReader } from './codec-crc.ts'
import { SecureFrameReader } from './codec-secure.ts'
import { V2Error, V2ErrorCode, isV2Error } from './errors.ts'
import type { Frame, FrameReader } from './frame.ts'
import type { GcmCipher } from './gcm.ts'
import { DEFAULT_V2_LIMITS } from './limits.ts'
import type { V2Limits } from './limits.ts'

export interface V2DecoderOptions {
  limits?: Partial<V2Limits>
  /** The stream starts with the peer's banner (default true); false for a stream of frames only. */
  banner?: boolean
}

export interface ReceivedBanner extends Banner {
  /** The banner bytes as received (the first bytes AUTH_SIGNATURE covers). */
  raw: Uint8Array
}

export type FramingMode = 'crc' | 'secure'

export class V2FrameDecoder {
  readonly limits: V2Limits
  private readonly q = new ByteQueue()
  private reader: FrameReader
  private modeNow: FramingMode = 'crc'
  private needBanner: boolean
  private failure: V2Error | undefined

  constructor (opts: V2DecoderOptions = {}) {
    this.limits = { ...DEFAULT_V2_LIMITS, ...opts.limits }
    this.reader = new CrcFrameReader(this.limits)
    this.needBanner = opts.banner ?? true
  }

  get mode (): FramingMode {
    return this.modeNow
  }

  /** Stream offset of the next unread byte. */
  get offset (): number {
    return this.q.consumed
  }

  /** Bytes received but not yet returned as part of a banner or frame. */
  get buffered (): number {
    return this.q.length
  }

  push (chunk: Uint8Array): void {
    this.q.push(chunk)
  }

  /** The peer's banner, or undefined until it has arrived. Garbage or a v1 banner fails at once. */
  readBanner (): ReceivedBanner | undefined {
    this.rethrow()
    if (!this.needBanner) throw new Error('the banner has already been read')
    const q = this.q
    try {
      const n = Math.min(q.length, 10)
      const len = bannerLength(q.peek(n), 0, n, q.consumed)
      if (len === undefined || q.length < len) return undefined
      const offset = q.consumed
      const raw = q.take(len)
      this.needBanner = false
      return { ...decodeBanner(raw, 0, offset), raw }
    } catch (e) {
      return this.fail(e)
    }
  }

  /** The next whole frame, or undefined until more bytes arrive. */
  next (): Frame | undefined {
    this.rethrow()
    if (this.needBanner) throw new Error('readBanner() must return the banner before frames are read')
    try {
      return this.reader.read(this.q)
    } catch (e) {
      if (isV2Error(e) && e.code === V2ErrorCode.FRAME_ABORTED) throw e
      return this.fail(e)
    }
  }

  /**
   * Read every following frame in secure mode with `rx` (the peer's direction). Call it between
   * frames: right after next() returned the frame that ends the peer's plaintext.
   */
  enableSecure (rx: GcmCipher): void {
    if (this.reader.midFrame) throw new Error('cannot change the framing mode in the middle of a frame')
    this.reader = new SecureFrameReader(this.limits, rx)
    this.modeNow = 'secure'
  }

  /** At end of stream: bytes left over mean the peer stopped inside a banner or frame. */
  end (): void {
    this.rethrow()
    if (this.q.length > 0 || this.reader.midFrame) {
      this.fail(new V2Error(V2ErrorCode.TRUNCATED, `stream ended inside a frame (${this.q.length} bytes left over)`, this.q.consumed + this.q.length))
    }
  }

  private rethrow (): void {
    if (this.failure !== undefined) throw this.failure
  }

  private fail (e: unknown): never {
    if (isV2Error(e)) this.failure = e
    throw e
  }
}
