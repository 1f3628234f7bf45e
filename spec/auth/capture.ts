// Test-only helpers for the real Ceph captures in spec/fixtures/ceph-v2: a minimal msgr2.1 crc-mode
// frame walker (banner, then 32-byte preamble + segment 0 + u32 crc, plus segments 1..3 and a
// 13-byte epilogue for multi-segment frames) and readers for the values frames.txt prints.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const FIXTURES = fileURLToPath(new URL('../fixtures/ceph-v2/', import.meta.url))

export const Tag = {
  HELLO: 1,
  AUTH_REQUEST: 2,
  AUTH_REPLY_MORE: 4,
  AUTH_REQUEST_MORE: 5,
  AUTH_DONE: 6,
  AUTH_SIGNATURE: 7
} as const

const BANNER_LEN = 26
const PREAMBLE_LEN = 32
const EPILOGUE_LEN = 13

export interface Frame {
  tag: number
  /** Offset of the preamble in the stream. */
  start: number
  /** Offset just past the frame. */
  end: number
  seg0: Uint8Array
}

/** Walk plain frames from the banner on, stopping after the frame with tag `stopAfter`. */
export function walkFrames (stream: Uint8Array, stopAfter: number): Frame[] {
  const dv = new DataView(stream.buffer, stream.byteOffset, stream.byteLength)
  const out: Frame[] = []
  let off = BANNER_LEN
  while (off + PREAMBLE_LEN <= stream.length) {
    const tag = stream[off]
    const nseg = stream[off + 1]
    const lens = [0, 1, 2, 3].map((i) => dv.getUint32(off + 2 + 6 * i, true))
    let end = off + PREAMBLE_LEN + lens[0] + 4
    const seg0 = stream.subarray(off + PREAMBLE_LEN, off + PREAMBLE_LEN + lens[0])
    if (nseg > 1) end += lens[1] + lens[2] + lens[3] + EPILOGUE_LEN
    if (end > stream.length) throw new Error(`frame at ${off} runs past the stream`)
    out.push({ tag, start: off, end, seg0 })
    off = end
    if (tag === stopAfter) return out
  }
  throw new Error(`no frame with tag ${stopAfter}`)
}

export function frame (frames: Frame[], tag: number): Frame {
  const f = frames.find((x) => x.tag === tag)
  if (f === undefined) throw new Error(`no frame with tag ${tag}`)
  return f
}

export interface Capture {
  dir: string
  keyring: string
  c2s: Uint8Array
  s2c: Uint8Array
  /** The frames.txt section of this connection. */
  text: string
}

export function loadCapture (scenario: string, conn = 0): Capture {
  const dir = FIXTURES + scenario + '/'
  const all = readFileSync(dir + 'frames.txt', 'utf8')
  const sections = all.split(/^=== connection /m).slice(1)
  const text = sections.find((s) => s.startsWith(`${conn}:`))
  if (text === undefined) throw new Error(`no connection ${conn} in ${scenario}`)
  let keyring = ''
  try {
    keyring = readFileSync(dir + 'keyring', 'utf8')
  } catch {
    keyring = ''
  }
  return {
    dir,
    keyring,
    c2s: new Uint8Array(readFileSync(`${dir}streams/conn${conn}.c2s.bin`)),
    s2c: new Uint8Array(readFileSync(`${dir}streams/conn${conn}.s2c.bin`)),
    text
  }
}

export function hex (b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

export function unhex (s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'))
}

function match (text: string, re: RegExp, what: string): RegExpMatchArray {
  const m = text.match(re)
  if (m === null) throw new Error(`frames.txt has no ${what}`)
  return m
}

/** Session keys by service id, as frames.txt printed them after decrypting. */
export function printedSessionKeys (text: string): Map<number, string> {
  const out = new Map<number, string>()
  for (const m of text.matchAll(/service_id=(\d+)\(\w+\) v=1 CephXServiceTicket\(decrypted\)\{v=1 session_key type=1 len=16 ([0-9a-f]{32}) validity=(\d+)/g)) {
    out.set(Number(m[1]), m[2])
  }
  return out
}

export function printedValidity (text: string, serviceId: number): number {
  return Number(match(text, new RegExp(`service_id=${serviceId}\\(\\w+\\) v=1 CephXServiceTicket\\(decrypted\\)\\{[^}]*validity=(\\d+)`), 'validity')[1])
}

export function printedConnectionSecret (text: string): string {
  return match(text, /connection_secret\(\d+\)=([0-9a-f]*)/, 'connection secret')[1]
}

/** The AUTH_SIGNATURE sha256 printed for a direction ("C->S" or "S->C"). */
export function printedSignature (text: string, dir: 'C->S' | 'S->C'): string {
  const re = new RegExp(`^${dir.replace('>', '\\>')} #\\d+ @\\d+ AUTH_SIGNATURE[^\\n]*\\n(?:[^\\n]*\\n)?\\s*sha256=([0-9a-f]{64})`, 'm')
  return match(text, re, `${dir} signature`)[1]
}

/** How many peer bytes frames.txt says a direction's signature covers. */
export function printedSignedLength (text: string, dir: 'C->S' | 'S->C'): number {
  return Number(match(text, new RegExp(`AUTH_SIGNATURE from ${dir.replace('>', '\\>')} VERIFIED: HMAC-SHA256\\(session_key, (\\d+) peer bytes`), 'signed length')[1])
}

export function printedChallenge (text: string, which: 'client' | 'server'): bigint {
  return BigInt(match(text, new RegExp(`${which}_challenge=(0x[0-9a-f]+)`), `${which} challenge`)[1])
}
