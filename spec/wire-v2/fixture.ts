// Shared by the msgr2 specs: the real captures in spec/fixtures/ceph-v2 (raw bytes of each TCP
// direction), the independent decoder's listing of them (frames.txt, parsed here), and a
// driver that decodes a direction in chunks, switching to secure mode where the real peers did.
import { readFileSync, readdirSync } from 'node:fs'
import { Tag } from '../../lib/wire-v2/constants.ts'
import { V2FrameDecoder } from '../../lib/wire-v2/decoder.ts'
import type { ReceivedBanner, V2DecoderOptions } from '../../lib/wire-v2/decoder.ts'
import type { Frame } from '../../lib/wire-v2/frame.ts'
import { secureCiphers } from '../../lib/wire-v2/gcm.ts'

const root = new URL('../fixtures/ceph-v2/', import.meta.url)

export type Dir = 'c2s' | 's2c'

/** One line "C->S #3 @248 AUTH_SIGNATURE ..." of frames.txt and its indented detail lines. */
export interface ListedFrame {
  index: number
  offset: number
  tag: string
  secure: boolean
  numSegments?: number
  segLens: number[]
  aligns?: number[]
  flags?: number
  onwire: number
  details: string[]
}

export interface ListedDirection {
  banner: { supported: bigint, required: bigint, len: number }
  frames: ListedFrame[]
  /** "AUTH_SIGNATURE from X VERIFIED: ... N peer bytes": bytes the signature SENT in this direction covers. */
  signedBytes?: number
}

export interface Capture {
  scenario: string
  conn: number
  bytes: Record<Dir, Uint8Array>
  listed: Record<Dir, ListedDirection>
  /** The 64-byte connection_secret (secure scenario only). */
  secret?: Uint8Array
  /** The cephx session key from AUTH_DONE, as frames.txt printed it (cephx scenarios). */
  sessionKey?: Uint8Array
}

/** Scenario 4's connection_secret, as frames.txt prints it (decrypted there from AUTH_DONE). */
export const SCENARIO4_SECRET = Buffer.from(
  'b191c39191a08fb909ae431997dc0d08266654faa953cd15067b4cf9e6b20414' +
  '1b13d54dc460e5dde67bb4b658a176660415c4cc0c9d15fcd77aebe2dbc45c44', 'hex')

function hexBytes (h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, 'hex'))
}

const nums = (s: string): number[] => s.trim() === '' ? [] : s.split(',').map((x) => Number(x.trim()))

function parseFramesTxt (text: string): Map<number, { listed: Record<Dir, ListedDirection>, sessionKey?: Uint8Array }> {
  const out = new Map<number, { listed: Record<Dir, ListedDirection>, sessionKey?: Uint8Array }>()
  let cur: { listed: Record<Dir, ListedDirection>, sessionKey?: Uint8Array } | undefined
  let last: ListedFrame | undefined
  for (const line of text.split('\n')) {
    const conn = /^=== connection (\d+)/.exec(line)
    if (conn !== null) {
      const blank = (): ListedDirection => ({ banner: { supported: 0n, required: 0n, len: 0 }, frames: [] })
      cur = { listed: { c2s: blank(), s2c: blank() } }
      out.set(Number(conn[1]), cur)
      continue
    }
    if (cur === undefined) continue
    const dirOf = (d: string): Dir => d === 'C->S' ? 'c2s' : 's2c'
    const banner = /^(C->S|S->C) BANNER .* supported=0x([0-9a-f]+) required=0x([0-9a-f]+)\s+\((\d+) bytes\)/.exec(line)
    if (banner !== null) {
      cur.listed[dirOf(banner[1])].banner = { supported: BigInt('0x' + banner[2]), required: BigInt('0x' + banner[3]), len: Number(banner[4]) }
      continue
    }
    const plain = /^(C->S|S->C) #(\d+) @(\d+) (\w+)\s+num_segments=(\d+) seg_lens=\[([\d, ]*)\] aligns=\[([\d, ]*)\] flags=0x([0-9a-f]+) onwire=(\d+)/.exec(line)
    const secure = /^(C->S|S->C) #(\d+) @(\d+) (\w+)\s+SECURE onwire=(\d+)\s+seg_lens=\[([\d, ]*)\]/.exec(line)
    if (plain !== null) {
      last = {
        index: Number(plain[2]), offset: Number(plain[3]), tag: plain[4], secure: false, numSegments: Number(plain[5]),
        segLens: nums(plain[6]), aligns: nums(plain[7]), flags: parseInt(plain[8], 16), onwire: Number(plain[9]), details: []
      }
      cur.listed[dirOf(plain[1])].frames.push(last)
      continue
    }
    if (secure !== null) {
      last = { index: Number(secure[2]), offset: Number(secure[3]), tag: secure[4], secure: true, segLens: nums(secure[6]), onwire: Number(secure[5]), details: [] }
      cur.listed[dirOf(secure[1])].frames.push(last)
      continue
    }
    const signed = /^AUTH_SIGNATURE from (C->S|S->C) VERIFIED: .*?(\d+) peer bytes/.exec(line)
    if (signed !== null) {
      cur.listed[dirOf(signed[1])].signedBytes = Number(signed[2])
      continue
    }
    const key = /service_id=32\(auth\) v=1 CephXServiceTicket\(decrypted\)\{v=1 session_key type=1 len=16 ([0-9a-f]{32})/.exec(line)
    if (key !== null) cur.sessionKey = hexBytes(key[1])
    if (line.startsWith('      ') && last !== undefined) last.details.push(line.trim())
  }
  return out
}

function loadAll (): Capture[] {
  const caps: Capture[] = []
  for (const scenario of readdirSync(root).sort()) {
    const dir = new URL(`${scenario}/`, root)
    const listing = parseFramesTxt(readFileSync(new URL('frames.txt', dir), 'utf8'))
    for (const [conn, { listed, sessionKey }] of listing) {
      const file = (d: Dir): Uint8Array => new Uint8Array(readFileSync(new URL(`streams/conn${conn}.${d}.bin`, dir)))
      caps.push({
        scenario,
        conn,
        bytes: { c2s: file('c2s'), s2c: file('s2c') },
        listed,
        secret: scenario.startsWith('4-') ? SCENARIO4_SECRET : undefined,
        sessionKey
      })
    }
  }
  return caps
}

export const captures: Capture[] = loadAll()

export function captureName (c: Capture, d: Dir): string {
  return `${c.scenario} conn${c.conn} ${d === 'c2s' ? 'client → mon' : 'mon → client'}`
}

/** The frame after which a direction is encrypted: the sender's last plaintext frame. */
export const SWITCH_AFTER: Record<Dir, number> = { c2s: Tag.AUTH_REQUEST_MORE, s2c: Tag.AUTH_DONE }

export interface Decoded {
  banner: ReceivedBanner
  frames: Frame[]
  /** The mode each frame was read in. */
  modes: Array<'crc' | 'secure'>
}

/**
 * Decode one direction of a capture fed as `chunks`, the way a connection would: the banner,
 * then frames, switching to secure mode (as the receiver: c2s is read by the server) right
 * after the sender's last plaintext frame when the capture has a secret.
 */
export function decodeDirection (c: Capture, d: Dir, chunks: readonly Uint8Array[], opts: V2DecoderOptions = {}): Decoded {
  const dec = new V2FrameDecoder(opts)
  let banner: ReceivedBanner | undefined
  const frames: Frame[] = []
  const modes: Array<'crc' | 'secure'> = []
  for (const chunk of chunks) {
    dec.push(chunk)
    if (banner === undefined) banner = dec.readBanner()
    if (banner === undefined) continue
    for (let f = dec.next(); f !== undefined; f = dec.next()) {
      frames.push(f)
      modes.push(dec.mode)
      if (c.secret !== undefined && f.tag === SWITCH_AFTER[d] && dec.mode === 'crc') {
        dec.enableSecure(secureCiphers(c.secret, d === 'c2s' ? 'server' : 'client').rx)
      }
    }
  }
  dec.end()
  if (banner === undefined) throw new Error('no banner')
  return { banner, frames, modes }
}

export function concat (bufs: readonly Uint8Array[]): Uint8Array {
  let n = 0
  for (const b of bufs) n += b.length
  const out = new Uint8Array(n)
  let at = 0
  for (const b of bufs) { out.set(b, at); at += b.length }
  return out
}

/** Cut `bytes` at the given split points (any order, repeats allowed). */
export function splitAt (bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(points)].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const c of cuts) { out.push(bytes.subarray(prev, c)); prev = c }
  out.push(bytes.subarray(prev))
  return out
}
