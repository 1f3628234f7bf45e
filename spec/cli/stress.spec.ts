// `ceph-msgr stress`: the lossless promise under injected socket failures and delays.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { runStress } from '../../lib/cli/stress.ts'

const run = promisify(execFile)

test('16 lossless_peer connections x 2000 messages (1 B-64 KiB, 1% up to 1 MiB), a socket failure every ~30 ops, random delays: exactly once, in order, intact', { timeout: 240_000 }, async () => {
  const r = await runStress({
    policy: 'lossless_peer', connections: 16, messages: 2000, minSize: 1, maxSize: 65536, largeEvery: 100, largeMax: 1048576,
    injectSocketFailures: 30, injectDelayProbability: 0.01, injectDelayMax: 0.02, transport: 'tcp', timeoutSeconds: 200, seed: 20261125
  })
  assert.equal(r.sent, 32000)
  assert.equal(r.delivered, 32000)
  assert.equal(r.lost, 0)
  assert.equal(r.duplicates, 0)
  assert.equal(r.out_of_order, 0)
  assert.equal(r.corrupt, 0)
  // The test must not pass by never failing: faults were injected and survived.
  assert.ok(r.injected_failures >= 100, `injected failures: ${r.injected_failures}`)
  assert.ok(r.reconnects >= 100, `reconnects: ${r.reconnects}`)
  assert.ok(r.injected_delays > 0)
  assert.ok(r.ok)
})

test('lossless_client against a stateful server, over the in-memory transport, with failures', async () => {
  const r = await runStress({
    policy: 'lossless_client', connections: 4, messages: 500, minSize: 1, maxSize: 4096, largeEvery: 0, largeMax: 0,
    injectSocketFailures: 20, injectDelayProbability: 0, injectDelayMax: 0, transport: 'memory', timeoutSeconds: 60, seed: 3
  })
  assert.equal(r.lost + r.duplicates + r.out_of_order + r.corrupt, 0)
  assert.ok(r.reconnects > 0)
})

test('lossy_client with failures loses messages but never duplicates, reorders or corrupts them', async () => {
  const r = await runStress({
    policy: 'lossy_client', connections: 4, messages: 300, minSize: 1, maxSize: 1024, largeEvery: 0, largeMax: 0,
    injectSocketFailures: 50, injectDelayProbability: 0, injectDelayMax: 0, transport: 'tcp', timeoutSeconds: 30, seed: 5
  })
  assert.equal(r.duplicates, 0)
  assert.equal(r.out_of_order, 0)
  assert.equal(r.corrupt, 0)
  assert.ok(r.ok)
})

test('the CLI prints one JSON object and exits 0 for a clean lossless run', async () => {
  const { stdout } = await run(process.execPath, ['bin/ceph-msgr.js', 'stress', '--policy', 'lossless_peer', '--connections', '2', '--messages', '200', '--size', '1-2048', '--inject-socket-failures', '25', '--json'])
  const r = JSON.parse(stdout.trim()) as Record<string, number>
  for (const k of ['sent', 'delivered', 'duplicates', 'out_of_order', 'corrupt', 'lost', 'reconnects', 'injected_failures', 'seconds']) {
    assert.equal(typeof r[k], 'number', k)
  }
  assert.equal(r.sent, 400)
  assert.equal(r.lost, 0)
})
