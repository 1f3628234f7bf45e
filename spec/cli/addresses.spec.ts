// `ceph-msgr ping` and `ceph-msgr mon` take mon addresses as Ceph users write them: hostnames, no
// port, addrvecs, lists (issue 16, CLI). In-process against a Monitor on a free loopback port.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { run as runPing } from '../../lib/cli/ping.ts'
import { run as runMon } from '../../lib/cli/mon.ts'
import { resolveMonTargets } from '../../lib/cli/targets.ts'
import type { Lookup } from '../../lib/cli/targets.ts'
import { Monitor } from '../../lib/mon/index.ts'
import { freePort } from '../support/ceph-mon.ts'
import { memoryIo } from '../mon/support.ts'

const fakeDns: Lookup = async (host) => {
  const table: Record<string, Array<{ address: string, family: number }>> = {
    'mon-a': [{ address: '10.0.0.1', family: 4 }],
    'mon-b': [{ address: 'fd00::2', family: 6 }, { address: '10.0.0.2', family: 4 }]
  }
  const r = table[host]
  if (r === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' })
  return r
}

describe('resolveMonTargets: parse, pick v1, resolve names', () => {
  test('bare hosts are v1:6789, names resolve to every address, an addrvec gives its v1 entry', async () => {
    const r = await resolveMonTargets('mon-a,mon-b:6790,[v2:10.0.0.3:3300,v1:10.0.0.3:6789]', fakeDns)
    assert.deepEqual(r.addrs, ['v1:10.0.0.1:6789/0', 'v1:[fd00::2]:6790/0', 'v1:10.0.0.2:6790/0', 'v1:10.0.0.3:6789/0'])
    assert.deepEqual(r.warnings, [])
  })
  test('v2-only mons in a list are skipped with a warning', async () => {
    const r = await resolveMonTargets('v2:mon-a,v1:mon-a', fakeDns)
    assert.deepEqual(r.addrs, ['v1:10.0.0.1:6789/0'])
    assert.match(r.warnings[0], /v2:mon-a:3300: msgr2 is not supported yet/)
  })
  test('an unknown name is "cannot resolve"', async () => {
    await assert.rejects(resolveMonTargets('v1:nowhere', fakeDns), /cannot resolve 'nowhere': ENOTFOUND/)
  })
})

describe('ping with Ceph address forms', () => {
  let mon: Monitor
  let port: number
  before(async () => {
    mon = new Monitor({ id: 'a', addr: 'v1:127.0.0.1:0' })
    port = (await mon.init()).port
  })
  after(async () => { await mon.shutdown(0) })

  async function ping (...args: string[]): Promise<{ code: number, out: string, err: string }> {
    const io = memoryIo()
    const code = await runPing([...args, '--timeout', '5'], io)
    return { code, out: io.stdout(), err: io.stderr() }
  }

  test('a hostname: v1:localhost:PORT (hunting past ::1 if localhost resolves there first)', async () => {
    const r = await ping(`v1:localhost:${port}`, '--json')
    assert.equal(r.code, 0, r.err)
    assert.equal((JSON.parse(r.out) as { mon_status: { name: string } }).mon_status.name, 'a')
  })
  test('a list with -m: the first mon refuses, the second answers', async () => {
    const dead = await freePort()
    const r = await ping('-m', `v1:127.0.0.1:${dead},v1:127.0.0.1:${port}`)
    assert.equal(r.code, 0, r.err)
    assert.match(r.out, new RegExp(`^pong from mon\\.0 v1:127\\.0\\.0\\.1:${port}/0: time=`))
  })
  test('an addrvec offering v1 uses the v1 entry', async () => {
    const r = await ping(`[v2:127.0.0.1:3300,v1:127.0.0.1:${port}]`, '--json')
    assert.equal(r.code, 0, r.err)
  })
  test('no answer from any mon of a list names the count', async () => {
    const [d1, d2] = [await freePort(), await freePort()]
    const r = await ping(`v1:127.0.0.1:${d1},v1:127.0.0.1:${d2}`)
    assert.equal(r.code, 1)
    assert.match(r.err, /no mon answered \(2 addresses tried\)/)
  })
  test('v2: is "msgr2 is not supported yet" (exit 2), never a v1 dial', async () => {
    for (const addr of [`v2:127.0.0.1:${port}`, 'v2:localhost', `[v2:127.0.0.1:${port}]`]) {
      const r = await ping(addr)
      assert.equal(r.code, 2, addr)
      assert.match(r.err, /msgr2 is not supported yet/)
      assert.equal(r.out, '')
    }
  })
  test('bad input: an unparsable address, MON and -m both, several positionals', async () => {
    assert.equal((await ping('v1:127.0.0.1:notaport')).code, 2)
    assert.match((await ping('v1:127.0.0.1:1', '-m', 'v1:127.0.0.1:2')).err, /not both/)
    assert.match((await ping('v1:127.0.0.1:1', 'v1:127.0.0.1:2')).err, /use commas/)
  })
  test('an unknown hostname: "cannot resolve", exit 2 (a bad address)', async () => {
    const r = await ping('v1:no-such-host.invalid:6789')
    assert.equal(r.code, 2)
    assert.match(r.err, /cannot resolve 'no-such-host\.invalid'/)
  })
})

describe('mon --addr', () => {
  async function startMon (args: string[]): Promise<{ code: Promise<number>, out: () => string, err: () => string, stop: () => void }> {
    const io = memoryIo()
    let stop: () => void = () => {}
    const stopSignal = new Promise<void>((resolve) => { stop = resolve })
    const code = runMon(args, io, stopSignal)
    return { code, out: io.stdout, err: io.stderr, stop }
  }

  test('v2: is refused (exit 2, msgr2 not supported), as is an addrvec with a v2 entry: never serves v1 instead', async () => {
    for (const addr of ['v2:127.0.0.1:0', 'v2:127.0.0.1', '[v2:127.0.0.1:3300,v1:127.0.0.1:0]']) {
      const m = await startMon(['--addr', addr])
      const code = await Promise.race([m.code, sleep(3000).then(() => 'still running')])
      m.stop()
      assert.equal(code, 2, addr)
      assert.match(m.err(), /msgr2 is not supported yet/)
      assert.equal(m.out(), '')
    }
  })
  test('a hostname: v1:localhost:0 listens on a loopback address, and ping reaches it by name', async () => {
    const m = await startMon(['--addr', 'v1:localhost:0'])
    try {
      let line = ''
      for (let i = 0; i < 100 && line === ''; i++) { await sleep(20); line = m.out() }
      const got = / listening on (v1:(?:127\.0\.0\.1|\[::1\]):(\d+)\/0)/.exec(line)
      assert.ok(got !== null, `${line}\n${m.err()}`)
      const io = memoryIo()
      assert.equal(await runPing([`localhost:${got[2]}`, '--timeout', '5'], io), 0, io.stderr())
    } finally {
      m.stop()
      assert.equal(await m.code, 0)
    }
  })
})
