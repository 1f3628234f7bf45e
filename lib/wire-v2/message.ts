// MESSAGE frames: segment 0 = ceph_msg_header2, then front, middle and data as segments 1..3.
import { Tag } from './constants.ts'
import { V2Error, V2ErrorCode } from './errors.ts'
import type { Frame } from './frame.ts'
import { decodeHeader2, encodeHeader2 } from './header2.ts'
import type { MsgHeader2 } from './header2.ts'

const EMPTY = new Uint8Array(0)

export interface MessageFrame {
  header: MsgHeader2
  front: Uint8Array
  middle: Uint8Array
  data: Uint8Array
}

/** The four segments of a MESSAGE frame, for an encoder (payloads are not copied). */
export function messageSegments (m: MessageFrame): Uint8Array[] {
  return [encodeHeader2(m.header), m.front, m.middle, m.data]
}

/** A received MESSAGE frame's parts (views into the frame's buffers). */
export function decodeMessageFrame (f: Frame): MessageFrame {
  if (f.tag !== Tag.MESSAGE) throw new V2Error(V2ErrorCode.BAD_PAYLOAD, `tag ${f.tag} is not MESSAGE`, f.offset)
  return {
    header: decodeHeader2(f.segments[0], f.offset + 32),
    front: f.segments[1] ?? EMPTY,
    middle: f.segments[2] ?? EMPTY,
    data: f.segments[3] ?? EMPTY
  }
}
