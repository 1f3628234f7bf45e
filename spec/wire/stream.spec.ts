import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { pipe } from 'it-pipe'
import { decodeFrames, encodeFrames, flatten } from '../../lib/wire/stream.ts'
import type { Source } from '../../lib/wire/stream.ts'
import { FrameDecoder } from '../../lib/wire/decoder.ts'
import { ErrorCode, ProtocolError } from '../../lib/wire/errors.ts'
import type { Frame } from '../../lib/wire/frame.ts'
import { SERVER_AT, concat, serverBytes, splitAt } from './fixture.ts'

/** The mon's bytes after the handshake: KEEPALIVE2_ACK and three messages. */
const tagsStream = serverBytes.subarray(SERVER_AT.keepalive2Ack)

async function collect<T> (source: Source<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of source) out.push(x)
  return out
}
// Typed stages: it-pipe cannot infer a generic function's type parameter.
const collectBytes = (source: Source<Uint8Array>): Promise<Uint8Array[]> => collect(source)
const collectBatches = (source: Source<Frame[]>): Promise<Frame[][]> => collect(source)
const collectFrames = (source: Source<Frame>): Promise<Frame[]> => collect(source)
const flattenFrames = (source: Source<Frame[]>): AsyncGenerator<Frame> => flatten(source)

async function * slowly (chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) {
    await Promise.resolve()
    yield c
  }
}

describe('stream transforms (it-pipe)', () => {
  it('bytes → frames → bytes gives the original tags-phase stream', async () => {
    const out = await pipe(
      slowly(splitAt(tagsStream, [1, 5, 100, 101, 999, 3000])),
      decodeFrames({ role: 'client', phase: 'tags', msgAuth: true }),
      encodeFrames({ msgAuth: true }),
      collectBytes
    )
    assert.deepEqual(new Uint8Array(concat(out)), tagsStream)
  })

  it('... for any chunking, flattened to one frame at a time too', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.nat(tagsStream.length), { maxLength: 20 }), async (points) => {
      const out = await pipe(
        splitAt(tagsStream, points),
        decodeFrames({ role: 'client', phase: 'tags', msgAuth: true }),
        flattenFrames,
        encodeFrames({ msgAuth: true }),
        collectBytes
      )
      assert.deepEqual(new Uint8Array(concat(out)), tagsStream)
    }), { numRuns: 100 })
  })

  it('a whole server stream (handshake included) round-trips', async () => {
    const out = await pipe(
      splitAt(serverBytes, [7, 200, 300]),
      decodeFrames({ role: 'client' }),
      encodeFrames({ msgAuth: true }),
      collectBytes
    )
    assert.deepEqual(new Uint8Array(concat(out)), serverBytes)
  })

  it('yields one batch per input chunk that completes frames, and accepts a ready decoder', async () => {
    const dec = new FrameDecoder({ role: 'client', phase: 'tags', msgAuth: true })
    const batches = await pipe([tagsStream], decodeFrames(dec), collectBatches)
    assert.equal(batches.length, 1)
    assert.deepEqual(batches[0].map((f) => f.kind), ['keepalive2_ack', 'msg', 'msg', 'msg'])
    // Chunks that complete nothing yield nothing.
    const few = await pipe(splitAt(tagsStream, [3, 9, 12]), decodeFrames({ role: 'client', phase: 'tags', msgAuth: true }), collectBatches)
    assert.equal(few.length, 2)
  })

  it('a corrupted stream rejects the pipe with the ProtocolError', async () => {
    const bad = tagsStream.slice()
    bad[9 + 1 + 16] ^= 1 // MAuthReply header
    await assert.rejects(
      pipe([bad], decodeFrames({ role: 'client', phase: 'tags', msgAuth: true }), flattenFrames, collectFrames),
      (e: unknown) => e instanceof ProtocolError && e.code === ErrorCode.BAD_HEADER_CRC && e.offset === 10
    )
  })

  it('a source ending mid-frame rejects with TRUNCATED, after the complete frames', async () => {
    const seen: Frame[] = []
    await assert.rejects(
      pipe([tagsStream.subarray(0, 200)], decodeFrames({ role: 'client', phase: 'tags', msgAuth: true }), flattenFrames, async (src: AsyncIterable<Frame>) => {
        for await (const f of src) seen.push(f)
      }),
      (e: unknown) => e instanceof ProtocolError && e.code === ErrorCode.TRUNCATED
    )
    assert.deepEqual(seen.map((f) => f.kind), ['keepalive2_ack', 'msg'])
  })
})
