// However the socket slices the bytes, the decoder yields the same frames.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { clientBytes, decodeChunks, serverBytes, splitAt } from './fixture.ts'
import type { DriveOptions } from './fixture.ts'

const streams = [
  { name: 'client → mon', role: 'server', bytes: clientBytes },
  { name: 'mon → client', role: 'client', bytes: serverBytes }
] as const

const variants: Array<[string, DriveOptions]> = [
  ['payloads as views', {}],
  ['payloads copied (copyBelow)', { copyBelow: 4096 }]
]

for (const { name, role, bytes } of streams) {
  for (const [variant, opts] of variants) {
    describe(`rechunk ${name}, ${variant}`, () => {
      const whole = decodeChunks(role, [bytes], opts)

      it('1-byte chunks', () => {
        const ones = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))
        assert.deepEqual(decodeChunks(role, ones, opts), whole)
      })

      it('every split point (two chunks)', () => {
        for (let p = 1; p < bytes.length; p++) {
          assert.deepEqual(decodeChunks(role, [bytes.subarray(0, p), bytes.subarray(p)], opts), whole, `split at ${p}`)
        }
      })

      it('random chunkings', () => {
        fc.assert(fc.property(fc.array(fc.nat(bytes.length), { maxLength: 40 }), (points) => {
          assert.deepEqual(decodeChunks(role, splitAt(bytes, points), opts), whole)
        }), { numRuns: 300 })
      })
    })
  }
}
