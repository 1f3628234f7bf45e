// `ceph-msgr stress`: the lossless promise under injected socket failures and delays.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { runStress } from '../../lib/cli/stress.ts'

const run = promisify(execFile)
const BIN = fileURLToPath(new URL('../../bin/ceph-msgr.js', import.meta.url))

/** All `n` messages were sent and delivered exactly once, in order, byte-identical. */
function assertExactlyOnce (r: object, n: number): void {
  const { sent, delivered, lost, duplicates, out_of_order: outOfOrder, corrupt } = r as Record<string, unknown>
  assert.deepEqual({ sent, delivered, lost, duplicates, outOfOrder, corrupt }, { sent: n, delivered: n, lost: 0, duplicates: 0, outOfOrder: 0, corrupt: 0 })
}

test('16 lossless_peer connections x 2000 messages (1 B-64 KiB, 1% up to 1 MiB), a socket failure every ~30 ops, random delays: exactly once, in order, intact', { timeout: 240_000 }, async () => {
  const r = await runStress({
    policy: 'lossless_peer', connections: 16, messages: 2000, minSize: 1, maxSize: 65536, largeEvery: 100, largeMax: 1048576,
    injectSocketFailures: 30, injectDelayProbability: 0.01, injectDelayMax: 0.02, transport: 'tcp', timeoutSeconds: 200, seed: 20261125
  })
  assertExactlyOnce(r, 32000)
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
  const { stdout } = await run(process.execPath, [BIN, 'stress', '--policy', 'lossless_peer', '--connections', '2', '--messages', '200', '--size', '1-2048', '--inject-socket-failures', '25', '--json'])
  const r = JSON.parse(stdout.trim()) as Record<string, number>
  for (const k of ['sent', 'delivered', 'duplicates', 'out_of_order', 'corrupt', 'lost', 'reconnects', 'injected_failures', 'seconds']) {
    assert.equal(typeof r[k], 'number', k)
  }
  assert.equal(r.sent, 400)
  assert.equal(r.lost, 0)
})

test('--processes: 3 client processes x 300 messages against an in-process lossless_peer server, a socket failure every ~30 ops: exactly once, in order, intact', { timeout: 60_000 }, async () => {
  // 1 B-32 KiB keeps the sockets busy enough that every run sees mid-stream failures and reconnects.
  const { stdout } = await run(process.execPath, [BIN, 'stress', '--processes', '--policy', 'lossless_peer', '--connections', '3', '--messages', '300',
    '--size', '1-32KiB', '--inject-socket-failures', '30', '--timeout', '40', '--seed', '7', '--json'])
  const r = JSON.parse(stdout.trim()) as Record<string, unknown>
  assert.equal(r.ok, true, stdout)
  assertExactlyOnce(r, 900)
  // Added up from the children: the clients reconnected, so the faults crossed process boundaries.
  assert.ok((r.reconnects as number) > 0, `reconnects: ${String(r.reconnects)}`)
  assert.ok((r.injected_failures as number) > 0, `injected failures: ${String(r.injected_failures)}`)
})

test('--processes: client processes still running at --timeout are killed and the run fails, without hanging', { timeout: 30_000 }, async () => {
  const err = await run(process.execPath, [BIN, 'stress', '--processes', '--connections', '2', '--messages', '1000000', '--timeout', '1', '--json'])
    .then(() => undefined, (e: unknown) => e as { code: number, stdout: string, stderr: string })
  assert.ok(err !== undefined, 'the run should fail')
  assert.equal(err.code, 1)
  assert.equal((JSON.parse(err.stdout.trim()) as { ok: boolean }).ok, false)
  assert.match(err.stderr, /stress client 0 \(pid \d+\): not done within 1 s; killed/)
  assert.match(err.stderr, /stress client 1 \(pid \d+\): not done within 1 s; killed/)
})

test('--processes needs the tcp transport', async () => {
  const err = await run(process.execPath, [BIN, 'stress', '--processes', '--transport', 'memory'])
    .then(() => undefined, (e: unknown) => e as { code: number, stderr: string })
  assert.equal(err?.code, 2)
  assert.match(err.stderr, /--processes needs --transport tcp/)
})
