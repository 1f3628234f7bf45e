// The payload pool: exact-size reuse, its byte bound, and the decoder gathering into it.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { concat, splitAt } from './fixture.ts'
import { FrameDecoder } from '../../lib/wire/decoder.ts'
import { encodeMessage } from '../../lib/wire/encoder.ts'
import type { MsgFrame } from '../../lib/wire/frame.ts'
import { PayloadLease, PayloadPool, POOL_MIN_BYTES } from '../../lib/wire/payload-pool.ts'

const KiB = 1024

describe('PayloadPool', () => {
  it('gives a released buffer to the next acquire of a size in the same page', () => {
    const pool = new PayloadPool(8 * POOL_MIN_BYTES)
    const a = pool.acquire(100_000)
    assert.equal(a.length, 100_000)
    assert.equal(a.buffer.byteLength % 4096, 0, 'capacity rounded up to a page')
    pool.release(a.buffer as ArrayBuffer)
    const b = pool.acquire(100_001)
    assert.equal(b.buffer, a.buffer, 'reused')
    assert.equal(b.length, 100_001)
    const c = pool.acquire(200_000)
    assert.notEqual(c.buffer, a.buffer, 'another size is a new buffer')
    assert.deepEqual(pool.stats(), { buffers: 0, bytes: 0, hits: 1, misses: 2, released: 1, dropped: 0 })
  })

  it('holds at most maxBytes, evicting the oldest free buffers first', () => {
    const size = POOL_MIN_BYTES
    const pool = new PayloadPool(3 * size)
    const bufs = [pool.acquire(size), pool.acquire(size), pool.acquire(size), pool.acquire(2 * size)]
    for (const b of bufs.slice(0, 3)) pool.release(b.buffer as ArrayBuffer)
    assert.equal(pool.stats().bytes, 3 * size)
    // Two of the three small ones go to make room.
    pool.release(bufs[3].buffer as ArrayBuffer)
    assert.equal(pool.stats().bytes, 3 * size)
    assert.equal(pool.stats().buffers, 2)
    assert.equal(pool.stats().dropped, 2)
    assert.equal(pool.acquire(2 * size).buffer, bufs[3].buffer)
    assert.equal(pool.acquire(size).buffer, bufs[2].buffer, 'the newest small one stayed')
  })

  it('drops what it would never hand out: small, odd-sized or larger than the pool', () => {
    const pool = new PayloadPool(POOL_MIN_BYTES)
    pool.release(new ArrayBuffer(4096))
    pool.release(new ArrayBuffer(POOL_MIN_BYTES + 1))
    pool.release(new ArrayBuffer(2 * POOL_MIN_BYTES))
    assert.equal(pool.stats().buffers, 0)
    assert.equal(pool.stats().dropped, 3)
  })

  it('a lease releases once, however often it is asked', () => {
    const pool = new PayloadPool(4 * POOL_MIN_BYTES)
    const a = pool.acquire(POOL_MIN_BYTES)
    const lease = new PayloadLease(pool, a.buffer as ArrayBuffer)
    lease.release()
    lease.release()
    assert.equal(pool.stats().buffers, 1)
    assert.equal(pool.stats().released, 1)
  })
})

describe('decoder with a payload pool', () => {
  const header = { seq: 1, tid: 7, type: 42, priority: 127, version: 1, dataOff: 0, src: { type: 4, num: 0 }, compatVersion: 1 }
  const frame = (size: number, fill: number): Uint8Array => concat(encodeMessage({ header, front: new Uint8Array(8).fill(fill), middle: new Uint8Array(0), data: new Uint8Array(size).fill(fill) }, true))
  const decode = (dec: FrameDecoder, bytes: Uint8Array, chunk: number): MsgFrame[] => {
    const points: number[] = []
    for (let p = chunk; p < bytes.length; p += chunk) points.push(p)
    const out: MsgFrame[] = []
    for (const c of splitAt(bytes, points)) {
      dec.push(c)
      for (const f of dec.drain()) if (f.kind === 'msg') out.push(f)
    }
    return out
  }

  it('gathers a large split payload in a pooled buffer, reused once released', () => {
    const pool = new PayloadPool(16 * 256 * KiB)
    const dec = new FrameDecoder({ role: 'client', phase: 'tags', msgAuth: true, pool })
    const [first] = decode(dec, frame(256 * KiB, 1), 64 * KiB)
    assert.ok(first.lease !== undefined, 'a lease for the gathered payload')
    assert.equal(first.data.buffer, first.lease.buffer)
    assert.ok(first.data.every((b) => b === 1) && first.front.every((b) => b === 1))
    first.lease.release()
    const [second] = decode(dec, frame(256 * KiB, 2), 64 * KiB)
    assert.equal(second.data.buffer, first.data.buffer, 'the same memory, now holding the second message')
    assert.ok(second.data.every((b) => b === 2) && second.front.every((b) => b === 2))
    // Not released: the next message gets a buffer of its own and the second stays intact.
    const [third] = decode(dec, frame(256 * KiB, 3), 64 * KiB)
    assert.notEqual(third.data.buffer, second.data.buffer)
    assert.ok(second.data.every((b) => b === 2) && third.data.every((b) => b === 3))
    assert.equal(pool.stats().hits, 1)
  })

  it('no lease for payloads that are views of one chunk, or small, or without a pool', () => {
    const pool = new PayloadPool(16 * 256 * KiB)
    const whole = decode(new FrameDecoder({ role: 'client', phase: 'tags', msgAuth: true, pool }), frame(256 * KiB, 1), 1024 * KiB)
    assert.equal(whole[0].lease, undefined, 'one chunk: a view, nothing to pool')
    const small = decode(new FrameDecoder({ role: 'client', phase: 'tags', msgAuth: true, pool }), frame(8 * KiB, 1), 1000)
    assert.equal(small[0].lease, undefined)
    const none = decode(new FrameDecoder({ role: 'client', phase: 'tags', msgAuth: true }), frame(256 * KiB, 1), 64 * KiB)
    assert.equal(none[0].lease, undefined)
    assert.ok(none[0].data.every((b) => b === 1))
  })
})
