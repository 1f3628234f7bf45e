// The decoder fuzzer (`npm run fuzz`, default 1 000 000 inputs). Seeds are the real captures and
// synthetic valid streams; each input is a mutation of a seed (bit flips, byte sets, length fields
// set to 0 / max / random, tags out of range, truncation, duplication, splices), decoded by both
// roles in random chunkings. Anything thrown that is not a ProtocolError — or a decoder that
// neither progresses nor asks for more bytes — is a crash: the input is saved under
// spec/fixtures/fuzz/ and replayed by fuzz.spec.ts forever after.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { FrameDecoder } from '../../lib/wire/decoder.ts'
import type { DecoderRole } from '../../lib/wire/decoder.ts'
import { ProtocolError } from '../../lib/wire/errors.ts'
import { encodeMessage } from '../../lib/wire/encoder.ts'
import { Tag } from '../../lib/wire/constants.ts'

const fixtures = new URL('../fixtures/', import.meta.url)
export const crashDir = new URL('fuzz/', fixtures)

export interface Seed { name: string, role: DecoderRole, bytes: Uint8Array, phase?: 'tags' }

function file (rel: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(rel, fixtures)))
}

/** Small limits so "absurd length" mutations hit TOO_LARGE instead of waiting for 4 GiB. */
export const LIMITS = { maxFrontLen: 1 << 16, maxMiddleLen: 1 << 16, maxDataLen: 1 << 20, maxAuthorizerLen: 4095 }

export function seeds (): Seed[] {
  const msg = (n: number): Uint8Array[] => encodeMessage({
    header: { seq: n, tid: n, type: 2 + n, priority: 127, version: 1, dataOff: 0, src: { type: 8, num: -1 }, compatVersion: 1 },
    front: new Uint8Array(n * 3).fill(n), middle: new Uint8Array(n % 2), data: new Uint8Array(n * 7).fill(255 - n)
  }, true)
  const tags = Buffer.concat([...msg(1), Uint8Array.of(Tag.ACK, 1, 0, 0, 0, 0, 0, 0, 0), ...msg(2), Uint8Array.of(Tag.KEEPALIVE), Uint8Array.of(Tag.KEEPALIVE2, 1, 2, 3, 4, 5, 6, 7, 8), ...msg(3), Uint8Array.of(Tag.CLOSE)])
  return [
    { name: 'ping-client', role: 'server', bytes: file('ceph-ping-v1/client-to-mon.bin') },
    { name: 'ping-server', role: 'client', bytes: file('ceph-ping-v1/mon-to-client.bin') },
    { name: 'lossless-retry-client', role: 'server', bytes: file('ceph-v1-lossless/STREAM10-a-to-b.bin').subarray(0, 4096) },
    { name: 'lossless-retry-server', role: 'client', bytes: file('ceph-v1-lossless/STREAM10-b-to-a.bin').subarray(0, 4096) },
    { name: 'resetsession-server', role: 'client', bytes: file('ceph-v1-lossless/resetsession-STREAM9-b-to-a.bin').subarray(0, 2048) },
    { name: 'tags', role: 'client', bytes: tags, phase: 'tags' }
  ]
}

/** Deterministic PRNG so a failing run can be repeated from its seed. */
export function prng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function mutate (src: Uint8Array, r: () => number): Uint8Array {
  let b = src.slice()
  const n = r() < 0.7 ? 1 : 2 + Math.floor(r() * 3)
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * Math.max(1, b.length))
    switch (Math.floor(r() * 9)) {
      case 0: b[at] ^= 1 << Math.floor(r() * 8); break
      case 1: b[at] = Math.floor(r() * 256); break
      case 2: { // a u32 length field: 0, max, or random
        const v = [0, 0xffffffff, Math.floor(r() * 0xffffffff), Math.floor(r() * 70000)][Math.floor(r() * 4)]
        if (at + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0, true)
        break
      }
      case 3: b[at] = 17 + Math.floor(r() * 239); break // a tag out of range
      case 4: b = b.subarray(0, at); break // truncation
      case 5: { const e = Math.min(b.length, at + Math.floor(r() * 64)); b = Buffer.concat([b, b.subarray(at, e)]); break } // duplication
      case 6: { const e = Math.min(b.length, at + Math.floor(r() * 64)); b = Buffer.concat([b.subarray(0, at), b.subarray(e)]); break } // deletion
      case 7: b = Buffer.concat([b, Buffer.from(Array.from({ length: Math.floor(r() * 32) }, () => Math.floor(r() * 256)))]); break // extension
      default: { const e = Math.min(b.length, at + 8); b.fill(0, at, e) }
    }
  }
  return b
}

export type Outcome = 'ok' | 'protocol-error' | 'crash'

/** Decode `bytes` as `role` in chunks chosen by `r`; returns what happened. Never throws. */
export function runOne (seed: Seed, bytes: Uint8Array, r: () => number): { outcome: Outcome, error?: unknown } {
  const dec = new FrameDecoder({ role: seed.role, limits: LIMITS, features: ~0n, ...(seed.phase === 'tags' ? { phase: 'tags', msgAuth: true } : {}) })
  try {
    let at = 0
    let guard = 0
    while (at < bytes.length) {
      const n = 1 + Math.floor(r() * 300)
      dec.push(bytes.subarray(at, at + n))
      at += n
      for (let f = dec.next(); f !== undefined; f = dec.next()) {
        if (++guard > 100000) return { outcome: 'crash', error: new Error('decoder does not progress') }
        // The server side waits for the session's decision after each connect: pick one.
        if (dec.phase === 'paused') dec.expect((['connect', 'seq', 'tags'] as const)[Math.floor(r() * 3)])
      }
      if (dec.buffered > LIMITS.maxDataLen + LIMITS.maxFrontLen + LIMITS.maxMiddleLen + 1024 + n) {
        return { outcome: 'crash', error: new Error(`decoder holds ${dec.buffered} bytes beyond its limits`) }
      }
    }
    if (dec.phase !== 'closed') dec.end()
    return { outcome: 'ok' }
  } catch (e) {
    if (e instanceof ProtocolError && Number.isFinite(e.offset) && e.offset >= 0 && e.offset <= bytes.length) return { outcome: 'protocol-error' }
    return { outcome: 'crash', error: e }
  }
}

export function saveCrash (seed: Seed, bytes: Uint8Array, error: unknown): string {
  mkdirSync(crashDir, { recursive: true })
  const name = `${seed.name}-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`
  writeFileSync(new URL(`${name}.bin`, crashDir), bytes)
  writeFileSync(new URL(`${name}.json`, crashDir), JSON.stringify({ seed: seed.name, role: seed.role, phase: seed.phase, error: String(error) }) + '\n')
  return name
}

export function fuzz (iterations: number, seed = Date.now() >>> 0): { runs: number, ok: number, errors: number, crashes: string[], seconds: number } {
  const r = prng(seed)
  const all = seeds()
  const t0 = performance.now()
  const res = { runs: 0, ok: 0, errors: 0, crashes: [] as string[], seconds: 0 }
  for (let i = 0; i < iterations; i++) {
    const s = all[i % all.length]
    const input = mutate(s.bytes, r)
    const out = runOne(s, input, r)
    res.runs++
    if (out.outcome === 'ok') res.ok++
    else if (out.outcome === 'protocol-error') res.errors++
    else res.crashes.push(saveCrash(s, input, out.error))
  }
  res.seconds = (performance.now() - t0) / 1000
  return res
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 1_000_000)
  const seed = Number(process.argv[3] ?? (Date.now() >>> 0))
  const res = fuzz(n, seed)
  process.stdout.write(`fuzz: ${res.runs} inputs (seed ${seed}) in ${res.seconds.toFixed(1)} s: ${res.ok} decoded or waiting, ${res.errors} typed ProtocolErrors, ${res.crashes.length} crashes\n`)
  for (const c of res.crashes) process.stdout.write(`  crash saved: spec/fixtures/fuzz/${c}.bin\n`)
  process.exitCode = res.crashes.length > 0 ? 1 : 0
}
