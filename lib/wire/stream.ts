// The async edge of the codec: it-pipe–composable transforms between byte streams and frames.
// Frames are yielded in batches (one array per input chunk) so a pipeline pays one async hop
// per socket read, not one per frame.
import { FrameDecoder } from './decoder.ts'
import type { DecoderOptions } from './decoder.ts'
import { encodeFrame } from './encoder.ts'
import type { CrcOptions } from './encoder.ts'
import type { Frame } from './frame.ts'

export type Source<T> = AsyncIterable<T> | Iterable<T>

/** bytes → batches of frames. Throws the decoder's ProtocolError; TRUNCATED if the source ends mid-frame. */
export function decodeFrames (opts: DecoderOptions | FrameDecoder): (source: Source<Uint8Array>) => AsyncGenerator<Frame[]> {
  return async function * (source) {
    const dec = opts instanceof FrameDecoder ? opts : new FrameDecoder(opts)
    for await (const chunk of source) {
      dec.push(chunk)
      const frames = dec.drain()
      if (frames.length > 0) yield frames
    }
    if (dec.phase !== 'closed') dec.end()
  }
}

/** Flattens batches: for consumers that want one frame at a time. */
export async function * flatten<T> (source: Source<T[]>): AsyncGenerator<T> {
  for await (const batch of source) yield * batch
}

/** frames (single or batched) → bytes, one buffer list per input item joined into one chunk. */
export function encodeFrames (opts: { msgAuth: boolean } & CrcOptions): (source: Source<Frame | Frame[]>) => AsyncGenerator<Uint8Array> {
  return async function * (source) {
    for await (const item of source) {
      const frames = Array.isArray(item) ? item : [item]
      const parts: Uint8Array[] = []
      for (const f of frames) parts.push(...encodeFrame(f, opts.msgAuth, opts))
      yield parts.length === 1 ? parts[0] : Buffer.concat(parts)
    }
  }
}
