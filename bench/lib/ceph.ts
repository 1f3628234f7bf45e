// The real-Ceph comparison: a throwaway ceph-mon (spec/support/ceph-mon.ts) and a librados
// Rados.ping_monitor loop in Python as the baseline.
import { spawn, spawnSync } from 'node:child_process'
import { startCephMon } from '../../spec/support/ceph-mon.ts'
import type { CephMon } from '../../spec/support/ceph-mon.ts'
import { which } from '../../spec/support/ceph.ts'
import type { ConnectPingResult } from './proto.ts'

const PYTHON = '/usr/bin/python3'

/** Why the librados comparison cannot run here, or undefined when it can. */
export function libradosSkipReason (): string | undefined {
  for (const b of ['ceph-mon', 'monmaptool']) {
    if (which(b) === undefined) return `${b} is not installed`
  }
  const r = spawnSync(PYTHON, ['-c', 'import rados'], { encoding: 'utf8', timeout: 20_000 })
  if (r.error !== undefined) return `${PYTHON} cannot run: ${r.error.message}`
  if (r.status !== 0) return `${PYTHON} -c 'import rados' failed: ${r.stderr.trim().split('\n').pop() ?? ''}`
  return undefined
}

/** A single mon on loopback, msgr v1 only (librados ping_monitor over v2 is not stable). */
export function startMon (): Promise<CephMon> {
  return startCephMon({ v2: false })
}

// One Rados handle; every ping_monitor call opens a new connection to the mon, pings, closes.
const LOOP = `
import json, sys, time, rados
conf, mon_id, warmup, duration = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
# a ping that gets no answer fails after 10 s instead of client_mount_timeout's 300
cluster = rados.Rados(conffile=conf, conf={'client_mount_timeout': '10'})
deadline = time.monotonic() + 20
done = 0
while done < warmup:
    try:
        cluster.ping_monitor(mon_id)
        done += 1
    except rados.Error:
        # the mon may still be settling; give it a moment
        if time.monotonic() > deadline:
            raise
        time.sleep(0.1)
n = 0
errors = 0
failed = 0.0
t0 = time.perf_counter()
while time.perf_counter() - t0 < duration:
    t = time.perf_counter()
    try:
        cluster.ping_monitor(mon_id)
        n += 1
    except rados.Error:
        # an unanswered ping ends after client_mount_timeout: keep its wait out of the rate
        errors += 1
        failed += time.perf_counter() - t
        if errors > 3:
            raise
elapsed = time.perf_counter() - t0 - failed
print(json.dumps({'pings': n, 'errors': errors, 'elapsedMs': elapsed * 1000}))
`

export function libradosPingLoop (mon: CephMon, warmup: number, durationMs: number): Promise<ConnectPingResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', LOOP, mon.clientConfPath, mon.name, String(warmup), String(durationMs / 1000)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => { out += b.toString() })
    child.stderr.on('data', (b: Buffer) => { err += b.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, durationMs + 30_000)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      if (code !== 0) { reject(new Error(`librados loop failed (code ${code}, signal ${signal}): ${err.trim().slice(-500)}`)); return }
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as ConnectPingResult)
      } catch (e) {
        reject(new Error(`librados loop printed ${JSON.stringify(out)}: ${String(e)}`))
      }
    })
  })
}

export type { CephMon }
