import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { EntityType, Message, Messenger, Policy } from '../../lib/index.ts'

const CHILD = fileURLToPath(new URL('../support/backoff-client.ts', import.meta.url))

function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => { resolve(port) })
    })
  })
}

test('a lossless connection backing off with a message to deliver keeps its process alive', { timeout: 30_000 }, async () => {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr.on('data', (b: Buffer) => { out += b.toString() })
  const exited = new Promise<number | null>((resolve) => { child.on('exit', (code) => { resolve(code) }) })
  // Whatever happens, the child does not outlive the test (it would keep the runner alive).
  const guard = setTimeout(() => { child.kill() }, 25_000)
  // Let the child fail to connect and go into backoff (0.2 s, 0.4 s, ...) with nothing else pending.
  await new Promise((resolve) => { setTimeout(resolve, 1500) })
  assert.equal(child.exitCode, null, `the client exited while its message was undelivered:\n${out}`)
  const srv = Messenger.create({ type: 'tcp', name: 'osd.1', policy: Policy.losslessPeer() })
  let got = ''
  srv.addDispatcherTail({ msDispatch: (m) => { got = new TextDecoder().decode(m.front); return true } })
  try {
    await srv.bind(`v1:127.0.0.1:${port}`)
    srv.start()
    assert.equal(await exited, 0, out)
    assert.match(out, /delivered/)
    assert.equal(got, 'hello')
  } finally {
    clearTimeout(guard)
    child.kill()
    await srv.shutdown(0)
  }
})

test('refused dials back off 0.2 s, 0.4 s, 0.8 s ... instead of retrying at once', { timeout: 30_000 }, async () => {
  const port = await freePort()
  const cli = Messenger.create({ type: 'tcp', name: 'osd.3', policy: Policy.losslessPeer() })
  cli.start()
  try {
    const conn = cli.connectTo(EntityType.OSD, `v1:127.0.0.1:${port}`)
    conn.send(new Message({ type: 0x7001 }))
    await new Promise((resolve) => { setTimeout(resolve, 1700) })
    // Attempts at about 0, 0.2, 0.6 and 1.4 s.
    const faults = cli.perfDump().msgr_faults as number
    assert.ok(faults >= 3 && faults <= 5, `${faults} failed attempts in 1.7 s`)
    assert.equal(conn.isClosed, false)
  } finally {
    await cli.shutdown(0)
  }
})
