// `ceph-msgr stress` refuses impossible values with a message naming the option (issue 16, CLI).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseSizeRange, run } from '../../lib/cli/stress.ts'
import { memoryIo } from '../mon/support.ts'

const refused: Array<[string[], RegExp]> = [
  [['--size', '10-5'], /--size 10-5: MIN \(10\) is above MAX \(5\)/],
  [['--size', '0-0'], /--size 0-0: messages carry at least 1 byte/],
  [['--size', '1-2-3'], /--size must be MIN-MAX or SIZE/],
  [['--size', '-5'], /--size must be MIN-MAX or SIZE/],
  [['--size', 'big'], /--size: 'big' is not a size/],
  [['--size', '1-256MiB'], /above the messenger's 128 MiB data limit/],
  [['--inject-delay-probability', '1.5'], /--inject-delay-probability must be a number from 0 to 1, got '1.5'/],
  [['--inject-delay-probability', '-0.1'], /--inject-delay-probability must be a number from 0 to 1/],
  [['--inject-delay-max', '-1'], /--inject-delay-max must be a number from 0 to 3600/],
  [['--connections', '-1'], /--connections must be an integer from 1 to 100000, got '-1'/],
  [['--connections', '0'], /--connections must be an integer from 1/],
  [['--connections', '2.5'], /--connections must be an integer/],
  [['--messages', '-3'], /--messages must be an integer >= 1, got '-3'/],
  [['--messages', ''], /--messages must be an integer >= 1/],
  [['--inject-socket-failures', '-5'], /--inject-socket-failures must be an integer >= 0/],
  [['--large-every', '-1'], /--large-every must be an integer >= 0/],
  [['--large-every', '10', '--large-max', '0'], /--large-max 0 must be from MIN of --size/],
  [['--timeout', '0'], /--timeout must be a number > 0/],
  [['--seed', 'x'], /--seed must be an integer/],
  [['--policy', 'lossy'], /unknown policy lossy/]
]

for (const [args, msg] of refused) {
  test(`stress ${args.join(' ')}: usage error, exit 2, nothing run`, async () => {
    const io = memoryIo()
    assert.equal(await run(args, io), 2)
    const first = io.stderr().split('\n')[0]
    assert.match(first, /^error: /)
    assert.match(first, msg)
    assert.equal(io.stdout(), '')
  })
}

test('parseSizeRange: MIN-MAX, one size, units', () => {
  assert.deepEqual(parseSizeRange('1-4096'), [1, 4096])
  assert.deepEqual(parseSizeRange('64KiB'), [65536, 65536])
  assert.deepEqual(parseSizeRange('1-1M'), [1, 1048576])
})

test('the smallest valid run still runs and passes', async () => {
  const io = memoryIo()
  assert.equal(await run(['--connections', '1', '--messages', '1', '--size', '1', '--transport', 'memory', '--json', '--timeout', '10'], io), 0, io.stderr())
  const r = JSON.parse(io.stdout()) as { sent: number, delivered: number, ok: boolean }
  assert.deepEqual([r.sent, r.delivered, r.ok], [1, 1, true])
})
