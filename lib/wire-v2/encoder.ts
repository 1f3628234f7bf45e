// The frame encoder for one direction: crc mode until enableSecure(), then secure mode (the
// switch happens between two frames: after our AUTH_DONE, or our last AUTH_REQUEST_MORE).
import { encodeBanner } from './banner.ts'
import type { Banner } from './banner.ts'
import { encodeFrameCrc } from './codec-crc.ts'
import { encodeFrameSecure } from './codec-secure.ts'
import { LateStatus } from './constants.ts'
import type { GcmCipher } from './gcm.ts'
import type { FramingMode } from './decoder.ts'

export class V2FrameEncoder {
  private tx: GcmCipher | undefined

  get mode (): FramingMode {
    return this.tx === undefined ? 'crc' : 'secure'
  }

  banner (b?: Banner): Uint8Array {
    return encodeBanner(b)
  }

  /** The wire bytes of one frame (a list for a gathered write; see encodeFrameCrc/encodeFrameSecure). */
  encode (tag: number, segments: readonly Uint8Array[], lateStatus: number = LateStatus.COMPLETE): Uint8Array[] {
    return this.tx === undefined
      ? encodeFrameCrc(tag, segments, lateStatus)
      : encodeFrameSecure(this.tx, tag, segments, lateStatus)
  }

  /** Encrypt every following frame with `tx` (our direction of the connection secret). */
  enableSecure (tx: GcmCipher): void {
    this.tx = tx
  }
}
