// Codec throughput: decoding and encoding MSG frames of 64 B, 4 KiB, 64 KiB and 1 MiB data (small
// front, all crcs on, 21-byte footers), each beside a plain memory copy of the same bytes in the
// same run. The decoder gets a pre-encoded stream in 64 KiB chunks, as a socket would hand it
// over, and starts in the 'tags' phase. Times are process CPU time (not wall time: a shared
// machine's other load would swamp them); runs of ours and of the copy alternate, and the ratio
// is the median of the per-pair ratios, so what the machine does to the caches hits both alike.
//
//   npm run bench:codec            (node --import tsx bench/codec.ts)
//   node --cpu-prof --import tsx bench/codec.ts       to profile
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { crc32c } from '../lib/wire/crc32c.ts'
import { FrameDecoder } from '../lib/wire/decoder.ts'
import { PayloadPool } from '../lib/wire/payload-pool.ts'
import { WriteBatch, encodeMessage, messageFrameLength } from '../lib/wire/encoder.ts'
import type { OutgoingMessage } from '../lib/wire/encoder.ts'
import { RESULTS_DIR } from './lib/paths.ts'

const CHUNK = 64 * 1024
const FRONT = 32
/** Bytes per timed run: enough to dwarf timer noise, small enough to stay quick. */
const RUN_BYTES = 24 * 1024 * 1024
const RUNS = Number(process.env.BENCH_RUNS ?? 15)

interface Case {
  name: string
  unit: string
  ours: number
  baseline: number
  baseline_name: string
  ratio: number
  frames: number
  bytes: number
  frames_per_s: number
  mb_per_s: number
}

function message (dataLen: number, seq: number): OutgoingMessage {
  const data = new Uint8Array(dataLen)
  for (let i = 0; i < dataLen; i++) data[i] = (i * 31 + seq) & 0xff
  return {
    header: { seq, tid: seq, type: 42, priority: 127, version: 1, dataOff: 0, src: { type: 8, num: 4112 }, compatVersion: 1 },
    front: new Uint8Array(FRONT).fill(seq & 0xff),
    middle: new Uint8Array(0),
    data
  }
}

/** The same bytes cut into socket-sized views. */
function chunked (stream: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let at = 0; at < stream.length; at += size) out.push(stream.subarray(at, Math.min(at + size, stream.length)))
  return out
}

function concat (bufs: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total)
  let at = 0
  for (const b of bufs) { out.set(b, at); at += b.length }
  return out
}

/** Baseline: copy every chunk into one destination of the same total size. */
function copyRun (chunks: Uint8Array[], dest: Uint8Array): number {
  let at = 0
  for (const c of chunks) { dest.set(c, at); at += c.length }
  return at
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** CPU time (user + system, ms) of one call: other load on the machine does not count. */
function cpuTime (fn: () => void): number {
  const start = process.cpuUsage()
  fn()
  const d = process.cpuUsage(start)
  return (d.user + d.system) / 1000
}

/** Alternate `ours` and `copy`; returns median times (ms) and the median of per-pair ratios. */
function measure (ours: () => void, copy: () => void): { ours: number, copy: number, ratio: number } {
  // Warm-up: until both are optimised (at least 5 runs and half a second).
  const warmUntil = performance.now() + 500
  for (let i = 0; i < 5 || performance.now() < warmUntil; i++) { ours(); copy() }
  const a: number[] = []
  const b: number[] = []
  const r: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const ta = cpuTime(ours)
    const tb = cpuTime(copy)
    a.push(ta)
    b.push(tb)
    r.push(ta / tb)
  }
  return { ours: median(a), copy: median(b), ratio: median(r) }
}

/**
 * `pooled`: the decoder gathers large payloads in a PayloadPool and every frame's buffer goes
 * back to it once read, as a dispatcher calling Message.put() does; otherwise each one is new.
 */
function decodeCase (dataLen: number, crcData = true, pooled = false): Case {
  const proto = [message(dataLen, 1), message(dataLen, 2), message(dataLen, 3)]
  const frameLen = messageFrameLength(proto[0], true)
  const n = Math.max(16, Math.floor(RUN_BYTES / frameLen))
  const parts: Uint8Array[] = []
  for (let i = 0; i < n; i++) parts.push(...encodeMessage(proto[i % proto.length], true))
  const stream = concat(parts, n * frameLen)
  const chunks = chunked(stream, CHUNK)
  const dest = new Uint8Array(stream.length)
  const pool = new PayloadPool(32 * 1024 * 1024)
  let sink = 0
  const ours = (): void => {
    const dec = new FrameDecoder({ role: 'client', phase: 'tags', msgAuth: true, crcData, ...(pooled ? { pool } : {}) })
    let frames = 0
    for (const c of chunks) {
      dec.push(c)
      for (let f = dec.next(); f !== undefined; f = dec.next()) {
        frames++
        if (f.kind === 'msg') {
          sink += f.data.length
          f.lease?.release()
        }
      }
    }
    dec.end()
    if (frames !== n) throw new Error(`decoded ${frames} of ${n} frames`)
  }
  const m = measure(ours, () => { sink += copyRun(chunks, dest) })
  if (sink === 0) throw new Error('nothing decoded')
  return result(`decode msg data=${sizeName(dataLen)}${crcData ? '' : ' (no data crc)'}${pooled ? ' (pooled, released)' : ''}`, m, n, stream.length)
}

/** Not a codec case: what crc32c alone costs over the same bytes, i.e. the floor of checking data. */
function crcCase (): Case {
  const src = chunked(new Uint8Array(RUN_BYTES).map((_, i) => i & 0xff), CHUNK)
  const dest = new Uint8Array(RUN_BYTES)
  let sink = 0
  const m = measure(() => { for (const c of src) sink ^= crc32c(c) }, () => { sink ^= copyRun(src, dest) })
  if (sink === 0.5) throw new Error('unreachable: keeps the crcs from being optimised away')
  return result('crc32c alone, 64KiB pieces', m, src.length, RUN_BYTES)
}

function encodeCase (dataLen: number): Case {
  const proto = [message(dataLen, 1), message(dataLen, 2), message(dataLen, 3)]
  const frameLen = messageFrameLength(proto[0], true)
  const n = Math.max(16, Math.floor(RUN_BYTES / frameLen))
  const total = n * frameLen
  // The baseline copies the same number of bytes, from 64 KiB pieces of an encoded stream.
  const src = chunked(new Uint8Array(total).fill(7), CHUNK)
  const dest = new Uint8Array(total)
  let sink = 0
  const ours = (): void => {
    // Like a connection's writer: append messages, hand the batch over every 64 KiB.
    const batch = new WriteBatch()
    let bytes = 0
    for (let i = 0; i < n; i++) {
      batch.appendMessage(proto[i % proto.length], true)
      if (batch.bytes >= CHUNK) for (const b of batch.flush()) bytes += b.length
    }
    for (const b of batch.flush()) bytes += b.length
    if (bytes !== total) throw new Error(`encoded ${bytes} of ${total} bytes`)
    sink += bytes
  }
  const m = measure(ours, () => { sink += copyRun(src, dest) })
  if (sink === 0) throw new Error('nothing encoded')
  return result(`encode msg data=${sizeName(dataLen)}`, m, n, total)
}

function result (name: string, m: { ours: number, copy: number, ratio: number }, frames: number, bytes: number): Case {
  return {
    name,
    unit: 'ms',
    ours: round(m.ours),
    baseline: round(m.copy),
    baseline_name: 'Uint8Array.set of the same bytes (64 KiB pieces)',
    ratio: round(m.ratio),
    frames,
    bytes,
    frames_per_s: Math.round(frames / (m.ours / 1000)),
    mb_per_s: Math.round(bytes / (m.ours / 1000) / 1e6)
  }
}

function round (x: number): number {
  return Math.round(x * 1000) / 1000
}

function sizeName (n: number): string {
  return n >= 1 << 20 ? `${n >> 20}MiB` : n >= 1024 ? `${n >> 10}KiB` : `${n}B`
}

const SIZES = [64, 4 * 1024, 64 * 1024, 1024 * 1024]
const cases: Case[] = []
for (const s of SIZES) cases.push(decodeCase(s))
for (const s of SIZES) cases.push(encodeCase(s))
// For reading the 64 KiB ratio: the decoder without the data crc, and the crc on its own.
cases.push(decodeCase(64 * 1024, false))
cases.push(decodeCase(64 * 1024, true, true))
cases.push(decodeCase(1024 * 1024, true, true))
cases.push(crcCase())

const header = ['case', 'frames/s', 'MB/s', 'ours ms', 'copy ms', 'ratio (ours/copy)']
const rows = cases.map((c) => [c.name, c.frames_per_s.toLocaleString('en-US'), String(c.mb_per_s), c.ours.toFixed(2), c.baseline.toFixed(2), c.ratio.toFixed(2)])
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
const line = (r: string[]): string => r.map((x, i) => i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i])).join('  ')
console.log(line(header))
for (const r of rows) console.log(line(r))

// The targets this codec is held to.
const d64k = cases.find((c) => c.name === 'decode msg data=64KiB')
const d64kPooled = cases.find((c) => c.name === 'decode msg data=64KiB (pooled, released)')
const d64 = cases.find((c) => c.name === 'decode msg data=64B')
const checks = [
  { what: 'decode 64 KiB message <= 1.5x a copy of it', ok: d64k !== undefined && d64k.ratio <= 1.5, value: `${d64k?.ratio}x` },
  { what: 'the same, payload buffers pooled and released', ok: d64kPooled !== undefined && d64kPooled.ratio <= 1.5, value: `${d64kPooled?.ratio}x` },
  { what: 'decode 64 B messages >= 2 M frames/s', ok: d64 !== undefined && d64.frames_per_s >= 2e6, value: `${((d64?.frames_per_s ?? 0) / 1e6).toFixed(2)} M/s` }
]
console.log()
for (const c of checks) console.log(`${c.ok ? 'PASS' : 'MISS'}  ${c.what}: ${c.value}`)

const out = pathToFileURL(RESULTS_DIR + '/')
mkdirSync(out, { recursive: true })
const json = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', clock: 'process CPU time (user + system), median of runs', cases }
writeFileSync(new URL('codec.json', out), JSON.stringify(json, null, 2) + '\n')
console.log(`\nwrote ${new URL('codec.json', out).pathname}`)
