// Shared by the wire specs: the real `ceph ping mon.a` capture and a decoder driver that behaves
// like a session (it answers the server-role decoder's pause after a connect).
import { readFileSync } from 'node:fs'
import { FrameDecoder } from '../../lib/wire/decoder.ts'
import type { DecoderOptions } from '../../lib/wire/decoder.ts'
import type { Frame } from '../../lib/wire/frame.ts'

const dir = new URL('../fixtures/ceph-ping-v1/', import.meta.url)

/** A fixture file as a plain Uint8Array (not a Buffer, so deepStrictEqual compares like with like). */
export function fixture (name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, dir)))
}

/** What the client sent (decoded by role 'server'). */
export const clientBytes = fixture('client-to-mon.bin')
/** What the mon sent (decoded by role 'client'). */
export const serverBytes = fixture('mon-to-client.bin')

// Frame offsets in the capture, used by specs that corrupt a particular field.
export const CLIENT_AT = { banner: 0, addr: 9, connect: 145, seq: 178, keepalive2: 186, mauth: 195, mping: 325 } as const
export const SERVER_AT = { banner: 0, addr: 9, peerAddr: 145, reply: 281, seq: 307, keepalive2Ack: 315, mauthReply: 324, monmap: 423, pong: 703 } as const

export function concat (bufs: readonly Uint8Array[]): Uint8Array {
  let n = 0
  for (const b of bufs) n += b.length
  const out = new Uint8Array(n)
  let at = 0
  for (const b of bufs) { out.set(b, at); at += b.length }
  return out
}

/** Cut `bytes` at the given (sorted or not, possibly repeated) split points. */
export function splitAt (bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(points)].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const c of cuts) { out.push(bytes.subarray(prev, c)); prev = c }
  out.push(bytes.subarray(prev))
  return out
}

export interface DriveOptions extends Partial<DecoderOptions> {
  /** Server role: what to expect after each connect (the capture's reply was SEQ). */
  afterConnect?: 'connect' | 'seq' | 'tags'
  /** Call end() after the last chunk. Default true. */
  end?: boolean
}

/**
 * Decode one direction chunk by chunk. `role` is the decoder's role: 'server' decodes the client's
 * bytes, 'client' the server's. Throws whatever the decoder throws.
 */
export function decodeChunks (role: 'client' | 'server', chunks: Iterable<Uint8Array>, opts: DriveOptions = {}): Frame[] {
  const { afterConnect = 'seq', end = true, ...decOpts } = opts
  const dec = new FrameDecoder({ ...decOpts, role })
  const out: Frame[] = []
  for (const chunk of chunks) {
    dec.push(chunk)
    while (true) {
      const f = dec.next()
      // A reused frame is refilled by the next call: keep a copy.
      if (f !== undefined) { out.push(f.kind === 'msg' && decOpts.reuseFrames === true ? { ...f, header: { ...f.header }, footer: { ...f.footer } } : f); continue }
      if (dec.phase !== 'paused') break
      dec.expect(afterConnect)
    }
  }
  if (end) dec.end()
  return out
}
