// Load: 1 000 concurrent clients x 100 pings each against the example mon, over real TCP.
// Zero failures; the spec reports p50 / p99 round trips (timings are reported, not asserted).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Monitor } from '../../lib/mon/monitor.ts'
import { MonPingClient } from '../../lib/mon/ping-client.ts'

const CLIENTS = 1000
const PINGS = 100

test(`${CLIENTS} concurrent clients x ${PINGS} pings against the example mon: no failures`, { timeout: 300_000 }, async (t) => {
  // The backlog of 1 000 simultaneous connects takes a while to accept on 2 cores.
  const mon = new Monitor({ addr: 'v1:127.0.0.1:0', config: { handshakeTimeoutMs: 60_000 } })
  const port = (await mon.init()).port
  const clients = Array.from({ length: CLIENTS }, () => new MonPingClient(`v1:127.0.0.1:${port}`, { timeoutMs: 60_000, auth: false }))
  t.after(async () => {
    await Promise.all(clients.map(async (c) => { await c.close() }))
    await mon.shutdown(100)
  })
  const rtts: number[] = []
  const failures: string[] = []
  const t0 = performance.now()
  // Open all sessions first (the first ping), then run the rest concurrently.
  await Promise.all(clients.map(async (c) => {
    try { rtts.push((await c.ping()).rttMs) } catch (e) { failures.push(String(e)) }
  }))
  const connected = performance.now() - t0
  await Promise.all(clients.map(async (c) => {
    for (let i = 1; i < PINGS; i++) {
      try { rtts.push((await c.ping()).rttMs) } catch (e) { failures.push(String(e)) }
    }
  }))
  const seconds = (performance.now() - t0) / 1000
  rtts.sort((a, b) => a - b)
  const pct = (p: number): number => rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))]
  t.diagnostic(`${rtts.length} pongs in ${seconds.toFixed(1)} s (${(rtts.length / seconds).toFixed(0)}/s; all connected after ${connected.toFixed(0)} ms); ` +
    `rtt p50 ${pct(0.5).toFixed(2)} ms, p99 ${pct(0.99).toFixed(2)} ms, max ${rtts[rtts.length - 1].toFixed(1)} ms`)
  assert.deepEqual(failures.slice(0, 5), [])
  assert.equal(rtts.length, CLIENTS * PINGS)
  assert.equal(mon.counters.pingsAnswered, CLIENTS * PINGS)
})
