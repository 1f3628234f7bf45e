// The real-Ceph test helper itself: a throwaway mon starts, becomes leader, answers the real
// `ceph ping` over msgr v1, survives a restart on the same ports, and leaves nothing behind.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, test } from 'node:test'
import { cephSkipReason } from '../support/ceph.ts'
import { startCephMon, type CephMon, type RunResult } from '../support/ceph-mon.ts'

const skip = cephSkipReason()

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function assertPong (r: RunResult): void {
  assert.equal(r.code, 0, `ceph ping failed: ${r.stderr}${r.stdout}`)
  const pong = JSON.parse(r.stdout) as { mon_status?: { state?: unknown, name?: unknown } }
  assert.equal(pong.mon_status?.state, 'leader')
  assert.equal(pong.mon_status?.name, 'a')
}

let mon: CephMon | undefined
after(async () => { await mon?.stop() })

test('a real ceph-mon starts, answers ceph ping over v1, restarts, and stops cleanly', { skip, timeout: 60000 }, async (t) => {
  mon = await startCephMon({ debugMs: 1 })
  t.diagnostic(`mon.a ${mon.v1Addr} (v2 port ${mon.v2Port}) leader after ${mon.readyMs.toFixed(0)} ms, dir ${mon.dir}`)
  assert.match(mon.v1Addr, /^v1:127\.0\.0\.1:\d+$/)
  assert.notEqual(mon.v1Port, mon.v2Port)
  assert.ok(isAlive(mon.pid))
  assert.equal((await mon.monStatus()).state, 'leader')

  const first = await mon.ceph(['ping', 'mon.a'])
  assertPong(first)

  const pid1 = mon.pid
  await mon.restart()
  t.diagnostic(`restart: leader again after ${mon.readyMs.toFixed(0)} ms`)
  assert.notEqual(mon.pid, pid1)
  assert.ok(!isAlive(pid1), 'old ceph-mon still running after restart')
  assert.ok(existsSync(mon.dir))
  assertPong(await mon.ceph(['ping', 'mon.a']))

  const { pid, dir } = mon
  await mon.stop()
  assert.ok(!mon.running)
  assert.ok(!isAlive(pid), `ceph-mon pid ${pid} still running after stop()`)
  assert.ok(!existsSync(dir), `${dir} not removed`)
  await mon.stop() // idempotent
})
