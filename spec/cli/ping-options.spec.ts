// `ceph-msgr ping` options from issue 16's CLI list: --interval 0 floods, --json failures are
// JSON objects, Ctrl-C with --count stops at once with status 130.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { run as runPing } from '../../lib/cli/ping.ts'
import { Monitor } from '../../lib/mon/index.ts'
import { freePort } from '../support/ceph-mon.ts'
import { memoryIo } from '../mon/support.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** `ceph-msgr ping ARGS` from the sources in a child process; SIGINT once `ready` matches its stdout. */
function pingProcess (args: string[], ready: RegExp): Promise<{ code: number | null, signal: string | null, out: string, err: string, afterSignalMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'ping', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    let signalledAt = 0
    const killer = setTimeout(() => { child.kill('SIGKILL') }, 20_000)
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s
      if (signalledAt === 0 && ready.test(out)) {
        signalledAt = performance.now()
        child.kill('SIGINT')
      }
    })
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(killer)
      resolve({ code, signal, out, err, afterSignalMs: signalledAt === 0 ? -1 : performance.now() - signalledAt })
    })
  })
}

describe('ping options', () => {
  let mon: Monitor
  let addr: string
  before(async () => {
    mon = new Monitor({ id: 'a', addr: 'v1:127.0.0.1:0' })
    addr = `v1:127.0.0.1:${(await mon.init()).port}`
  })
  after(async () => { await mon.shutdown(0) })

  test('--interval 0 is a flood: 200 pings back to back, each sent as the last pong arrives', async () => {
    const io = memoryIo()
    const t0 = performance.now()
    assert.equal(await runPing([addr, '--count', '200', '--interval', '0', '--json'], io), 0, io.stderr())
    const lines = io.stdout().trim().split('\n').map((l) => JSON.parse(l) as { ok?: boolean, summary?: boolean, received?: number })
    assert.equal(lines.filter((l) => l.ok === true).length, 200)
    assert.equal(lines[lines.length - 1].received, 200)
    assert.ok(performance.now() - t0 < 10_000)
  })
  test('--interval must be >= 0', async () => {
    for (const bad of ['-1', 'x', '']) {
      const io = memoryIo()
      assert.equal(await runPing([addr, '--count', '2', '--interval', bad], io), 2, bad)
      assert.match(io.stderr(), /--interval must be a number >= 0/)
    }
  })

  test('--json failures print one JSON error object on stdout (and the line on stderr)', async () => {
    const dead = `v1:127.0.0.1:${await freePort()}`
    const cases: Array<[string[], number, Record<string, unknown>]> = [
      [[dead, '--json'], 1, { ok: false, error: 'connect', target: `${dead}/0` }],
      [['v2:127.0.0.1:3300', '--json'], 2, { ok: false, error: 'msgr2', target: 'v2:127.0.0.1:3300' }],
      [['v1:no-such-host.invalid', '--json'], 2, { ok: false, error: 'resolve' }],
      [['-c', '/nonexistent/ceph.conf', '--json'], 1, { ok: false, error: 'config' }]
    ]
    for (const [args, code, want] of cases) {
      const io = memoryIo()
      assert.equal(await runPing([...args, '--timeout', '2'], io), code, args.join(' '))
      const got = JSON.parse(io.stdout()) as Record<string, unknown>
      for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, `${args.join(' ')}: ${k}`)
      assert.equal(typeof got.message, 'string')
      assert.match(io.stderr(), /^ceph-msgr ping: /)
    }
  })

  test('Ctrl-C with --count between pings: the summary, status 130', { timeout: 30_000 }, async () => {
    const r = await pingProcess([addr, '--count', '100', '--interval', '0.2'], /seq=2 /)
    assert.equal(r.code, 130, r.err)
    assert.match(r.out, /^\d+ pings sent, \d+ pongs received/m)
    assert.ok(r.afterSignalMs < 3000, `took ${r.afterSignalMs} ms`)
  })

  test('Ctrl-C with --count while a ping is pending (a mon that never answers): stops at once, status 130', { timeout: 30_000 }, async () => {
    const sockets: Socket[] = []
    const hole: Server = createServer((s) => { sockets.push(s) }) // accepts, never speaks
    await new Promise<void>((resolve) => { hole.listen(0, '127.0.0.1', resolve) })
    const port = (hole.address() as { port: number }).port
    try {
      const r = await pingProcess([`v1:127.0.0.1:${port}`, '--count', '5', '--timeout', '60'], /^PING /m)
      assert.equal(r.code, 130, r.err)
      assert.match(r.out, /^1 pings sent, 0 pongs received, 100% loss/m)
      assert.ok(r.afterSignalMs < 3000, `took ${r.afterSignalMs} ms`)
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => { hole.close(() => { resolve() }) })
    }
  })
})
