// `ceph-msgr ping` reads ceph.conf like a Ceph client: -c, CEPH_CONF, mon_host from [global] /
// [client] / [client.NAME], -m overriding it, -n/--name and --id, debug_ms. In-process.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { run as runPing } from '../../lib/cli/ping.ts'
import { Monitor } from '../../lib/mon/index.ts'
import { freePort } from '../support/ceph-mon.ts'
import { memoryIo } from '../mon/support.ts'

describe('ping with a ceph.conf', () => {
  let mon: Monitor
  let live: string
  let dead: string
  let dir: string
  let conf: string
  const savedEnv = process.env.CEPH_CONF

  before(async () => {
    mon = new Monitor({ id: 'a', addr: 'v1:127.0.0.1:0' })
    live = `v1:127.0.0.1:${(await mon.init()).port}`
    dead = `v1:127.0.0.1:${await freePort()}`
    dir = await mkdtemp(join(tmpdir(), 'ceph-msgr-conf-'))
    conf = join(dir, 'ceph.conf')
    // [global] points nowhere; [client.good] at our mon, spelled the other way.
    await writeFile(conf, `[global]\n\tmon host = ${dead}   # a comment\n[client.good]\n\tmon-host = "${live}"\n`)
  })
  after(async () => {
    if (savedEnv === undefined) delete process.env.CEPH_CONF
    else process.env.CEPH_CONF = savedEnv
    await mon.shutdown(0)
    await rm(dir, { recursive: true, force: true })
  })

  async function ping (...args: string[]): Promise<{ code: number, out: string, err: string }> {
    const io = memoryIo()
    const code = await runPing([...args, '--timeout', '3'], io)
    return { code, out: io.stdout(), err: io.stderr() }
  }

  test('-c FILE -n client.good: mon_host from [client.good] (over [global])', async () => {
    const r = await ping('-c', conf, '-n', 'client.good', '--json')
    assert.equal(r.code, 0, r.err)
    assert.equal((JSON.parse(r.out) as { mon_status: { name: string } }).mon_status.name, 'a')
  })
  test('--conf FILE --id good is the same', async () => {
    assert.equal((await ping('--conf', conf, '--id', 'good')).code, 0)
  })
  test('client.admin (the default name) gets [global]: the dead mon, exit 1', async () => {
    const r = await ping('-c', conf)
    assert.equal(r.code, 1)
    assert.match(r.err, new RegExp(`${dead.replace(/\./g, '\\.')}/0: connection refused`))
  })
  test('-m overrides mon_host', async () => {
    const r = await ping('-c', conf, '-m', live)
    assert.equal(r.code, 0, r.err)
  })
  test('CEPH_CONF names the file when -c does not; -c wins over it', async () => {
    process.env.CEPH_CONF = conf
    try {
      assert.equal((await ping('-n', 'client.good')).code, 0)
      const empty = join(dir, 'empty.conf')
      await writeFile(empty, '[global]\n')
      const r = await ping('-c', empty, '-n', 'client.good')
      assert.equal(r.code, 2)
      assert.match(r.err, /empty\.conf has no mon_host for client\.good/)
    } finally {
      delete process.env.CEPH_CONF
    }
  })
  test('debug_ms in the conf turns on the messenger log (stderr)', async () => {
    const loud = join(dir, 'loud.conf')
    await writeFile(loud, `[client]\n debug ms = 20/20\n mon host = ${live}\n`)
    const r = await ping('-c', loud)
    assert.equal(r.code, 0, r.err)
    assert.ok(r.err.length > 0, 'no log lines on stderr')
  })
  test('a missing or broken conf: one line naming the file (and line), exit 1', async () => {
    const missing = await ping('-c', join(dir, 'nope.conf'))
    assert.equal(missing.code, 1)
    assert.match(missing.err, /nope\.conf: cannot read: ENOENT/)
    const broken = join(dir, 'broken.conf')
    await writeFile(broken, '[global]\nmon host\n')
    const b = await ping('-c', broken)
    assert.equal(b.code, 1)
    assert.match(b.err, /broken\.conf:2: expected '=' after 'mon host'/)
  })
  test('a bad --name is a usage error', async () => {
    assert.equal((await ping('-c', conf, '-n', 'admin')).code, 2)
    assert.equal((await ping('-c', conf, '-n', 'client.a', '--id', 'b')).code, 2)
  })
})
