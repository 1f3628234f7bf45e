// Hostile peers against the example mon over real TCP, while a well-behaved client pings it every
// 10 ms and must get every pong. Each hostile socket must be closed by the server within its
// timeout; the server's memory stays bounded; the process never crashes.
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { Monitor } from '../../lib/mon/monitor.ts'
import { MonPingClient } from '../../lib/mon/ping-client.ts'
import { CONNECT_REPLY_LEN, HEADER_LEN, SERVER_HELLO_LEN, Tag } from '../../lib/wire/constants.ts'
import { encodeConnect } from '../../lib/wire/connect.ts'
import { encodeBanner, encodeMessage } from '../../lib/wire/encoder.ts'
import { encodeEntityAddr } from '../../lib/wire/entity-addr.ts'
import { PACIFIC_SUPPORTED } from '../../lib/wire/features.ts'
import { encodeHeader } from '../../lib/wire/header.ts'

const HANDSHAKE_TIMEOUT_MS = 1500
let mon: Monitor
let port = 0
let good: MonPingClient
let pongs = 0
const failures: string[] = []
let stopPinging = false
let pinger: Promise<void> | undefined

before(async () => {
  mon = new Monitor({ addr: 'v1:127.0.0.1:0', config: { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, maxOutQueueBytes: 8 * 1024 * 1024, outQueueHighWater: 1024 * 1024, limits: { maxFrontLen: 1024 * 1024 } } })
  port = (await mon.init()).port
  good = new MonPingClient(`v1:127.0.0.1:${port}`, { timeoutMs: 5000 })
  pinger = (async () => {
    while (!stopPinging) {
      try {
        await good.ping()
        pongs++
      } catch (e) {
        failures.push(String(e))
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })()
})

after(async () => {
  stopPinging = true
  await pinger
  await good.close()
  await mon.shutdown(100)
})

/** Open a raw socket to the mon; resolves `closed` with the ms it took the server to close it. */
function raw (): { sock: Socket, opened: Promise<void>, closed: Promise<number>, data: Buffer[] } {
  const sock = connect({ host: '127.0.0.1', port })
  const t0 = performance.now()
  const data: Buffer[] = []
  sock.on('data', (d: Buffer) => { data.push(d) })
  sock.on('error', () => {})
  const opened = new Promise<void>((resolve) => { sock.once('connect', () => { resolve() }) })
  const closed = new Promise<number>((resolve) => { sock.once('close', () => { resolve(performance.now() - t0) }) })
  return { sock, opened, closed, data }
}

async function waitBytes (data: Buffer[], n: number): Promise<void> {
  while (Buffer.concat(data).length < n) await new Promise((resolve) => setTimeout(resolve, 5))
}

/** A raw client that completes the v1 handshake as a Pacific client would. */
async function handshaken (): Promise<ReturnType<typeof raw>> {
  const r = raw()
  await r.opened
  r.sock.write(encodeBanner())
  await waitBytes(r.data, SERVER_HELLO_LEN)
  r.sock.write(Buffer.concat([
    encodeEntityAddr({ type: 1, nonce: 42, family: 2, ip: '127.0.0.1', port: 0 }),
    encodeConnect({ features: PACIFIC_SUPPORTED, hostType: 8, globalSeq: 1, connectSeq: 0, protocolVersion: 15, authorizerProtocol: 0, flags: 1 })
  ]))
  await waitBytes(r.data, SERVER_HELLO_LEN + CONNECT_REPLY_LEN + 8)
  assert.equal(Buffer.concat(r.data)[SERVER_HELLO_LEN], Tag.SEQ)
  r.sock.write(Buffer.alloc(8))
  return r
}

function ping (seq: number): Uint8Array {
  return Buffer.concat(encodeMessage({ header: { seq, tid: 0, type: 2, priority: 127, version: 1, dataOff: 0, src: { type: 8, num: -1 }, compatVersion: 1 }, front: new Uint8Array(0), middle: new Uint8Array(0), data: new Uint8Array(0) }, true))
}

const goodStillPinging = async (): Promise<void> => {
  const before = pongs
  while (pongs < before + 3) await new Promise((resolve) => setTimeout(resolve, 5))
  assert.deepEqual(failures, [])
}

test('garbage instead of a banner: closed at once', async () => {
  const r = raw()
  await r.opened
  r.sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  assert.ok(await r.closed < 1000)
  await goodStillPinging()
})

test('a valid handshake, then a header with a bad crc: closed', async () => {
  const r = await handshaken()
  const bad = Buffer.from(ping(1))
  bad[10] ^= 0xff
  r.sock.write(bad)
  assert.ok(await r.closed < 1000)
  await goodStillPinging()
})

test('front_len = 4 GiB (with a correct header crc): refused before any payload, closed', async () => {
  const r = await handshaken()
  const h = encodeHeader({ seq: 1, tid: 0, type: 2, priority: 127, version: 1, frontLen: 0xffffffff, middleLen: 0, dataLen: 0, dataOff: 0, src: { type: 8, num: -1 }, compatVersion: 1, reserved: 0, crc: 0 })
  assert.equal(h.length, HEADER_LEN)
  r.sock.write(Buffer.concat([Uint8Array.of(Tag.MSG), h]))
  assert.ok(await r.closed < 1000)
  await goodStillPinging()
})

test('an unknown tag: closed', async () => {
  const r = await handshaken()
  r.sock.write(Uint8Array.of(99))
  assert.ok(await r.closed < 1000)
  await goodStillPinging()
})

test('a peer that resets mid-message: cleaned up, nothing else disturbed', async () => {
  const r = await handshaken()
  const m = ping(1)
  r.sock.write(m.subarray(0, 30))
  await new Promise((resolve) => setTimeout(resolve, 20))
  r.sock.resetAndDestroy()
  await r.closed
  await goodStillPinging()
  // The mon is left with only the good client.
  const deadline = performance.now() + 2000
  while (mon.messenger.connections.size > 1 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(mon.messenger.connections.size, 1)
})

test('1 000 sockets opened and abandoned mid-handshake: all closed by the server within the handshake timeout', async () => {
  const socks: Array<ReturnType<typeof raw>> = []
  for (let i = 0; i < 1000; i++) {
    const r = raw()
    socks.push(r)
    // Half stop after the banner, half send nothing at all.
    if (i % 2 === 0) void r.opened.then(() => { r.sock.write(encodeBanner()) })
  }
  const times = await Promise.all(socks.map(async (r) => await r.closed))
  assert.ok(Math.max(...times) < HANDSHAKE_TIMEOUT_MS + 3000, `slowest close ${Math.max(...times).toFixed(0)} ms`)
  await goodStillPinging()
})

test('slowloris (one byte per 100 ms): closed by the handshake step timeout', async () => {
  const r = raw()
  await r.opened
  const bytes = Buffer.concat([encodeBanner(), encodeEntityAddr({ type: 1, nonce: 1, family: 2, ip: '127.0.0.1', port: 0 })])
  let i = 0
  const t = setInterval(() => { if (i < bytes.length && !r.sock.destroyed) r.sock.write(bytes.subarray(i, ++i)) }, 100)
  const ms = await r.closed
  clearInterval(t)
  assert.ok(ms < 9 * 100 + 136 * 100, 'closed long before the slow client could finish')
  assert.ok(ms < HANDSHAKE_TIMEOUT_MS * 2 + 1500, `closed after ${ms.toFixed(0)} ms`)
  await goodStillPinging()
})

test('a peer that floods pings and never reads: the server does not buffer without bound', async () => {
  const rss0 = process.memoryUsage().rss
  const r = await handshaken()
  r.sock.pause()
  let seq = 1
  // Write until the server closes us (its out_q limit) or 60 000 pings went out.
  while (!r.sock.destroyed && seq < 60000) {
    const b = Buffer.concat(Array.from({ length: 500 }, () => ping(seq++)))
    if (!r.sock.write(b)) await new Promise((resolve) => { r.sock.once('drain', resolve); setTimeout(resolve, 200) })
  }
  const closed = await Promise.race([r.closed, new Promise<number>((resolve) => setTimeout(() => { resolve(-1) }, 10000))])
  const grew = process.memoryUsage().rss - rss0
  assert.ok(closed >= 0, 'the server closed the connection that would not read')
  assert.ok(grew < 200 * 1024 * 1024, `rss grew ${grew} bytes`)
  await goodStillPinging()
})

test('the good client saw every pong', () => {
  assert.deepEqual(failures, [])
  assert.ok(pongs > 20, `pongs: ${pongs}`)
})
