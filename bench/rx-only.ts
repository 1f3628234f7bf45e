// The receive path alone: a real server Messenger (lossless_peer, CRCs on, fast dispatch to a
// counting sink) fed msgr v1 frames over the in-memory transport by a scripted peer, so no sender
// shares the measurement. Prints the server process's CPU per message.
//   node dist/bench/rx-only.js [SIZES] [ROUNDS]      e.g. 64,65536 8   (built by npm run build)
//   node --import tsx bench/rx-only.ts [SIZES] [ROUNDS]  (the sources, through tsx)
//   --live   frames are made as they are fed, each 64 KiB chunk a fresh Buffer (like socket
//            reads); run under `node --trace-gc` to see the receiver's collections
//   --prof FILE   write a CPU profile (.cpuprofile) of the last round's receiving alone
// Pre-encoded mode encodes each round first (not timed) and times only the receiver; SIZES run
// one after the other in the same process, as a full bench run does.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { parseArgs } from 'node:util'
import { EntityType, Policy } from '../lib/index.ts'
import { MemoryMessenger } from '../lib/messenger/memory-messenger.ts'
import { memorySocketPair } from '../lib/messenger/memory-socket.ts'
import type { MsgrSocket } from '../lib/messenger/socket.ts'
import { CONNECT_REPLY_LEN, SERVER_HELLO_LEN, Tag } from '../lib/wire/constants.ts'
import { encodeConnect } from '../lib/wire/connect.ts'
import { WriteBatch, encodeBanner } from '../lib/wire/encoder.ts'
import { encodeEntityAddr } from '../lib/wire/entity-addr.ts'
import { PACIFIC_SUPPORTED } from '../lib/wire/features.ts'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { live: { type: 'boolean', default: false }, prof: { type: 'string' } } })
const sizes = (positionals[0] ?? '64').split(',').map(Number)
const rounds = Number(positionals[1] ?? 8)
const CHUNK = 64 * 1024

/** A Messenger that takes a socket as if its Accepter had accepted it. */
class FedMessenger extends MemoryMessenger {
  feed (sock: MsgrSocket): void { this.accept(sock, this.protocols.v1, this.myAddr) }
}

const srv = new FedMessenger({ type: 'memory', name: 'osd.0', nonce: 5, policy: Policy.losslessPeer() })
let got = 0
let want = 0
let done = (): void => {}
srv.addDispatcherTail({ msCanFastDispatch: () => true, msFastDispatch: () => { if (++got === want) done() } })
srv.start()
const [peer, srvSock] = memorySocketPair({ ip: '127.0.0.1', port: 1, family: 4 }, { ip: '127.0.0.1', port: 2, family: 4 }, 1 << 20)
srv.feed(srvSock)

// The scripted peer: banner, address and connect as an OSD client would send them.
const it = peer.source[Symbol.asyncIterator]()
let inbuf = Buffer.alloc(0)
async function readN (n: number): Promise<Buffer> {
  while (inbuf.length < n) {
    const r = await it.next()
    if (r.done === true) throw new Error('server closed the connection')
    inbuf = Buffer.concat([inbuf, r.value])
  }
  const out = inbuf.subarray(0, n)
  inbuf = inbuf.subarray(n)
  return out
}
peer.write([encodeBanner(), encodeEntityAddr({ type: 1, nonce: 42, family: 2, ip: '127.0.0.1', port: 0 }),
  encodeConnect({ features: PACIFIC_SUPPORTED, hostType: EntityType.OSD, globalSeq: 1, connectSeq: 0, protocolVersion: 0, authorizerProtocol: 0, flags: 0 })])
await readN(SERVER_HELLO_LEN)
const reply = await readN(CONNECT_REPLY_LEN)
if (reply[0] === Tag.SEQ) {
  await readN(8)
  peer.write([new Uint8Array(8)])
} else if (reply[0] !== Tag.READY) {
  throw new Error(`connect refused with tag ${reply[0]}`)
}
// The server's ACKs are read and dropped.
void (async () => { for (let r = await it.next(); r.done !== true; r = await it.next()); })().catch(() => {})

let seq = 0
const batch = new WriteBatch(CHUNK, 1 << 30)
function frame (data: Uint8Array): Uint8Array[] {
  batch.appendMessage({
    header: { seq: ++seq, tid: 0, type: 0x7001, priority: 127, version: 1, dataOff: 0, src: { type: EntityType.OSD, num: 1 }, compatVersion: 0 },
    front: new Uint8Array(0),
    middle: new Uint8Array(0),
    data
  }, true, {})
  return batch.flush()
}

/** Cut a byte stream into CHUNK-sized Buffers, as TCP reads deliver them. */
function cut (all: Buffer): Buffer[] {
  const out: Buffer[] = []
  for (let o = 0; o < all.length; o += CHUNK) out.push(Buffer.from(all.subarray(o, Math.min(all.length, o + CHUNK))))
  return out
}

async function feed (chunks: Uint8Array[]): Promise<void> {
  for (const c of chunks) {
    const w = peer.write([c])
    if (w !== undefined) await w
  }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}

let profiler: Session | undefined
if (values.prof !== undefined) {
  profiler = new Session()
  profiler.connect()
  await profiler.post('Profiler.enable')
  await profiler.post('Profiler.setSamplingInterval', { interval: 50 })
}

for (const size of sizes) {
  const data = new Uint8Array(size).fill(9)
  const perRound = Math.max(2000, Math.min(300_000, Math.floor(60e6 / (size + 80))))
  const us: number[] = []
  const sys: number[] = []
  for (let r = 0; r < rounds; r++) {
    got = 0
    want = perRound
    const all = new Promise<void>((resolve) => { done = resolve })
    let t0: NodeJS.CpuUsage
    if (values.live === true) {
      t0 = process.cpuUsage()
      let pending: Buffer = Buffer.alloc(0)
      for (let i = 0; i < perRound; i++) {
        pending = Buffer.concat([pending, ...frame(data)])
        if (pending.length >= CHUNK) {
          const whole = pending.length - pending.length % CHUNK
          await feed(cut(pending.subarray(0, whole)))
          pending = pending.subarray(whole)
        }
      }
      await feed(cut(pending))
    } else {
      const parts: Uint8Array[] = []
      for (let i = 0; i < perRound; i++) parts.push(...frame(data))
      const chunks = cut(Buffer.concat(parts))
      if (profiler !== undefined && r === rounds - 1) await profiler.post('Profiler.start')
      t0 = process.cpuUsage()
      await feed(chunks)
    }
    await all
    if (profiler !== undefined && r === rounds - 1 && values.live !== true) {
      const { profile } = await profiler.post('Profiler.stop')
      writeFileSync(values.prof as string, JSON.stringify(profile))
    }
    const t = process.cpuUsage(t0)
    us.push((t.user + t.system) / perRound)
    sys.push(t.system / perRound)
  }
  // The first two rounds warm the code up.
  const tail = us.slice(2)
  process.stdout.write(`${size} B: ${median(tail).toFixed(3)} us CPU/message (median of ${tail.length} rounds; best ${Math.min(...tail).toFixed(3)}, system ${median(sys.slice(2)).toFixed(3)})${values.live === true ? ', live (feeder included)' : ''}\n`)
}
await srv.shutdown(0)
