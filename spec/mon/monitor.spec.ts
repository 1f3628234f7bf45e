// Our Monitor against our ping client and raw clients, over TCP loopback (ephemeral ports) and
// the in-memory messenger; then the `mon` and `ping` commands, in-process and as processes.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  AuthProtocol, Feature, MAuthReply, MMonGetMap, MMonMap, MPing, Message, Messenger, MsgType, Policy, Priority,
  formatEntityAddr, negotiationMAuth
} from '../../lib/index.ts'
import { run as runPing } from '../../lib/cli/ping.ts'
import { run as runMon } from '../../lib/cli/mon.ts'
import { MonPingClient, Monitor, PingError, parsePong, releaseFromFeatures, serveMetrics } from '../../lib/mon/index.ts'
import { freePort } from '../support/ceph-mon.ts'
import { RawClient, keyOrder, memoryIo, spawnCli } from './support.ts'

const FIXTURE = new URL('../../../shared/fixtures/ceph-ping-v1/ceph-ping-v1.stdout.json', import.meta.url)
const PACIFIC = 0x3f01cfbdfffdffffn

interface MonStatus {
  name: string
  rank: number
  state: string
  quorum: number[]
  monmap: { fsid: string, mons: Array<{ name: string, addr: string, public_addrs: { addrvec: Array<{ type: string, addr: string, nonce: number }> } }> }
  feature_map: Record<string, Array<{ features: string, release: string, num: number }>>
}

function monStatus (text: string): MonStatus {
  const doc = parsePong(text)
  assert.ok(doc !== undefined, `pong is not JSON: ${text.slice(0, 200)}`)
  return doc.mon_status as MonStatus
}

async function fixtureText (): Promise<string | undefined> {
  try {
    return await readFile(FIXTURE, 'utf8')
  } catch {
    return undefined
  }
}

for (const type of ['tcp', 'memory'] as const) {
  describe(`Monitor over ${type}`, () => {
    let mon: Monitor
    let addr: string
    const cleanup: Array<() => Promise<void>> = []

    test('init binds and starts dispatching', async () => {
      mon = new Monitor({ type, addr: 'v1:127.0.0.1:0', fsid: '630ba7ee-1a25-4a3e-bdad-adcf5cab63bf' })
      addr = formatEntityAddr(await mon.init())
      assert.match(addr, /^v1:127\.0\.0\.1:\d+\/0$/)
      assert.equal(mon.monmap.mons[0].name, 'a')
    })

    after(async () => {
      for (const c of cleanup) await c()
      await mon?.shutdown()
    })

    test('our ping client gets a pong shaped like a real mon\'s', async () => {
      const pc = new MonPingClient(addr, { type })
      cleanup.push(() => pc.close())
      const pong = await pc.ping()
      assert.equal(pong.from.type, 1)
      assert.equal(pong.from.num, 0)
      assert.ok(pong.text.endsWith('}\n'))
      const st = monStatus(pong.text)
      assert.equal(st.state, 'leader')
      assert.equal(st.name, 'a')
      assert.equal(st.rank, 0)
      assert.deepEqual(st.quorum, [0])
      assert.equal(st.monmap.fsid, '630ba7ee-1a25-4a3e-bdad-adcf5cab63bf')
      const port = addr.replace(/^v1:/, '').replace(/\/0$/, '')
      assert.equal(st.monmap.mons[0].addr, `${port}/0`)
      assert.deepEqual(st.monmap.mons[0].public_addrs.addrvec, [{ type: 'v1', addr: port, nonce: 0 }])
      // The mon counts itself and the pinging client.
      assert.deepEqual(st.feature_map.mon, [{ features: '0x3f01cfbdfffdffff', release: 'luminous', num: 1 }])
      assert.deepEqual(st.feature_map.client, [{ features: '0x3f01cfbdfffdffff', release: 'luminous', num: 1 }])
      assert.equal(pong.text, mon.lastPong)
      // The MAuth negotiation went first: a global_id and our monmap came back.
      assert.equal(pc.lastAuthReply?.protocol, AuthProtocol.NONE)
      assert.equal(pc.lastMonMap?.fsid, mon.fsid)

      const fixture = await fixtureText()
      if (fixture !== undefined) {
        // Same keys, same order, same nesting as a real Pacific mon's pong, indentation included.
        const real = JSON.parse(fixture) as unknown
        assert.deepEqual(keyOrder(JSON.parse(pong.text)), keyOrder(real))
        assert.equal(JSON.stringify(JSON.parse(pong.text), null, 4) + '\n', pong.text)
      }
      // Repeated pings reuse the connection.
      const again = await pc.ping()
      assert.equal(again.connection, pong.connection)
      assert.equal(again.connectMs, undefined)
      assert.equal(pc.connections, 1)
      assert.ok(mon.counters.pingsAnswered >= 2)
    })

    test('MAuth (none) → MAuthReply then MMonMap, a fresh global_id per session', async () => {
      const ids: bigint[] = []
      for (let i = 0; i < 2; i++) {
        const c = new RawClient(type)
        cleanup.push(() => c.close())
        const conn = c.connect(addr)
        const before = mon.counters.authRequests
        conn.send(negotiationMAuth())
        const reply = await c.next(MsgType.AUTH_REPLY)
        assert.ok(reply instanceof MAuthReply)
        assert.equal(reply.protocol, AuthProtocol.NONE)
        assert.equal(reply.result, 0)
        assert.equal(reply.resultBl.length, 0)
        assert.equal(reply.resultMsg, '')
        assert.equal(reply.priority, Priority.HIGH)
        assert.equal(reply.compatVersion, 1)
        assert.equal(reply.front.length, 24)
        ids.push(reply.globalId)
        const mm = await c.next(MsgType.MON_MAP)
        assert.ok(mm instanceof MMonMap)
        assert.equal(mm.priority, Priority.HIGH)
        // Everything after the MAuthReply is in order on the connection.
        assert.ok(mm.seq > reply.seq)
        assert.equal(mm.monmap.fsid, mon.fsid)
        assert.equal(mm.monmap.epoch, 1)
        assert.deepEqual(mm.monmap.ranks, ['a'])
        assert.equal(formatEntityAddr(mm.monmap.mons[0].addrs[0]), addr)
        assert.equal(mon.counters.authRequests, before + 1)
      }
      assert.notEqual(ids[0], ids[1])
      assert.ok(ids[0] > 0n)
    })

    test('MAuth without auth none → error reply, no monmap', async () => {
      const c = new RawClient(type)
      cleanup.push(() => c.close())
      c.connect(addr).send(negotiationMAuth({ methods: [AuthProtocol.CEPHX] }))
      const reply = await c.next(MsgType.AUTH_REPLY)
      assert.ok(reply instanceof MAuthReply)
      assert.equal(reply.result, -95)
      assert.equal(reply.globalId, 0n)
      await sleep(50)
      assert.equal(c.received.filter((m) => m.type === MsgType.MON_MAP).length, 0)
    })

    test('MMonGetMap → MMonMap', async () => {
      const c = new RawClient(type)
      cleanup.push(() => c.close())
      c.connect(addr).send(new MMonGetMap())
      const mm = await c.next(MsgType.MON_MAP)
      assert.ok(mm instanceof MMonMap)
      assert.equal(mm.monmap.mons[0].name, 'a')
      assert.ok(mon.counters.getMapRequests >= 1)
    })

    test('an unknown message is dropped and the connection stays up', async () => {
      const c = new RawClient(type)
      cleanup.push(() => c.close())
      const conn = c.connect(addr)
      const dropped = mon.counters.dropped
      conn.send(new Message({ type: 0x7ff0, front: new Uint8Array([1, 2, 3, 4]) }))
      conn.send(new MPing())
      const pong = await c.next(MsgType.PING)
      assert.ok(pong instanceof MPing)
      assert.ok((pong.payloadText ?? '').includes('"leader"'))
      // Header as a real mon's pong: priority HIGH, version 1, compat_version 0.
      assert.equal(pong.priority, Priority.HIGH)
      assert.equal(pong.version, 1)
      assert.equal(pong.compatVersion, 0)
      assert.equal(mon.counters.dropped, dropped + 1)
      assert.ok(conn.isOpen)
      assert.equal(conn.counters.faults, 0)
      // And it keeps answering on it.
      conn.send(new MPing())
      await c.next(MsgType.PING)
      assert.ok(conn.isOpen)
    })

    test('fewer features: no MSG_AUTH (13-byte footers), no RECONNECT_SEQ (READY)', async () => {
      for (const without of [Feature.MSG_AUTH, Feature.RECONNECT_SEQ, Feature.MSG_AUTH | Feature.RECONNECT_SEQ]) {
        const features = PACIFIC & ~without
        const pc = new MonPingClient(addr, { type, features })
        cleanup.push(() => pc.close())
        const pong = await pc.ping()
        assert.equal(pong.connection.features & without, 0n)
        assert.equal(monStatus(pong.text).state, 'leader')
        const second = await pc.ping()
        const clients = monStatus(second.text).feature_map.client
        assert.ok(clients.some((e) => e.features === '0x' + features.toString(16) && e.release === releaseFromFeatures(features)))
      }
    })

    test('too few features → a clean REFUSED (FEATURES) error', async () => {
      const pc = new MonPingClient(addr, { type, features: 0x3n })
      cleanup.push(() => pc.close())
      await assert.rejects(pc.ping(), (e: unknown) => {
        assert.ok(e instanceof PingError)
        assert.equal(e.kind, 'refused')
        assert.match(e.message, /FEATURES/)
        return true
      })
    })

    test('connection refused', async () => {
      const port = type === 'tcp' ? await freePort() : 1
      const pc = new MonPingClient(`v1:127.0.0.1:${port}`, { type })
      cleanup.push(() => pc.close())
      await assert.rejects(pc.ping(), (e: unknown) => e instanceof PingError && e.kind === 'connect' && /ECONNREFUSED/.test(e.message))
    })

    test('metrics: counters, perf counters, dispatch latency histogram', async () => {
      const text = mon.metrics()
      assert.match(text, /^# TYPE ceph_mon_pings_answered_total counter$/m)
      assert.match(text, /^ceph_mon_pings_answered_total\{mon="a"\} [1-9]\d*$/m)
      assert.match(text, /^ceph_mon_auth_requests_total\{mon="a"\} [1-9]\d*$/m)
      assert.match(text, /^ceph_mon_connected_clients\{mon="a"\} \d+$/m)
      assert.match(text, /^ceph_mon_dispatch_latency_seconds_bucket\{mon="a",le="\+Inf"\} [1-9]\d*$/m)
      assert.match(text, /^ceph_mon_dispatch_latency_seconds_count\{mon="a"\} [1-9]\d*$/m)
      assert.match(text, /^ceph_msgr_recv_messages_total\{mon="a"\} [1-9]\d*$/m)
      assert.match(text, /^ceph_msgr_active_connections\{mon="a"\} \d+$/m)
      assert.match(text, /^ceph_msgr_recv_messages_by_type_total\{mon="a",type="2",type_name="PING"\} [1-9]\d*$/m)
      // Every sample line is NAME{labels} VALUE.
      for (const line of text.trim().split('\n')) {
        if (!line.startsWith('#')) assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEInfa]+$/, line)
      }
    })
  })
}

describe('metrics server', () => {
  test('serves /metrics, 404 elsewhere', async () => {
    const srv = await serveMetrics('127.0.0.1', 0, () => '# TYPE x counter\nx 1\n')
    try {
      const r = await fetch(srv.url)
      assert.equal(r.status, 200)
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
      assert.equal(await r.text(), '# TYPE x counter\nx 1\n')
      assert.equal((await fetch(srv.url.replace('/metrics', '/'))).status, 404)
    } finally {
      await srv.close()
    }
  })
})

describe('ping failures', () => {
  const servers: Server[] = []
  after(() => { for (const s of servers) s.close() })

  async function rawServer (onConn: (s: Socket) => void): Promise<number> {
    const srv = createServer(onConn)
    servers.push(srv)
    await new Promise<void>((resolve) => { srv.listen(0, '127.0.0.1', resolve) })
    const a = srv.address()
    assert.ok(a !== null && typeof a === 'object')
    return a.port
  }

  test('a peer expecting another protocol version → a clean REFUSED (BADPROTOVER) error', async () => {
    // An OSD expects protocol 24 from clients; a mon pinger sends 15.
    const osd = Messenger.create({ name: 'osd.0', nonce: 0, policy: Policy.statelessServer() })
    const a = formatEntityAddr(await osd.bind('v1:127.0.0.1:0'))
    osd.start()
    const pc = new MonPingClient(a, { timeoutMs: 2000 })
    try {
      await assert.rejects(pc.ping(), (e: unknown) => e instanceof PingError && e.kind === 'refused' && /BADPROTOVER/.test(e.message))
    } finally {
      await pc.close()
      await osd.shutdown()
    }
  })

  test('a peer that never answers → timeout', async () => {
    const socks: Socket[] = []
    const port = await rawServer((s) => { socks.push(s) })
    const pc = new MonPingClient(`v1:127.0.0.1:${port}`, { timeoutMs: 300 })
    try {
      await assert.rejects(pc.ping(), (e: unknown) => e instanceof PingError && e.kind === 'timeout')
    } finally {
      await pc.close()
      for (const s of socks) s.destroy()
    }
  })

  test('a peer that is not a Ceph mon → protocol error', async () => {
    const port = await rawServer((s) => { s.end('HTTP/1.1 400 Bad Request\r\n\r\n') })
    const pc = new MonPingClient(`v1:127.0.0.1:${port}`, { timeoutMs: 2000 })
    try {
      await assert.rejects(pc.ping(), (e: unknown) => e instanceof PingError && e.kind === 'protocol' && /BANNER/.test(e.message))
    } finally {
      await pc.close()
    }
  })
})

describe('ceph-msgr ping / mon commands', () => {
  let mon: Monitor
  let addr: string

  test('setup', async () => {
    mon = new Monitor({ addr: 'v1:127.0.0.1:0' })
    addr = formatEntityAddr(await mon.init())
  })
  after(async () => { await mon?.shutdown() })

  test('ping --json prints exactly the document the mon sent', async () => {
    const io = memoryIo()
    assert.equal(await runPing([addr, '--json'], io), 0)
    assert.equal(io.stdout(), mon.lastPong)
    assert.equal(io.stderr(), '')
  })

  test('ping prints a header line and the pong', async () => {
    const io = memoryIo()
    assert.equal(await runPing([addr], io), 0)
    const [first, ...rest] = io.stdout().split('\n')
    assert.match(first, /^pong from mon\.0 v1:127\.0\.0\.1:\d+\/0: time=\d+\.\d{3} ms \(connect \d+\.\d{3} ms\)$/)
    assert.equal(rest.join('\n'), mon.lastPong)
  })

  test('ping --count: per-ping times and a summary', async () => {
    const io = memoryIo()
    assert.equal(await runPing([addr, '--count', '3', '--interval', '0.02'], io), 0)
    const out = io.stdout()
    assert.equal(out.match(/^pong from mon\.0 .*: seq=\d time=\d+\.\d{3} ms/mg)?.length, 3)
    assert.match(out, /^3 pings sent, 3 pongs received, 0% loss, 0 reconnects, time \d+ ms$/m)
    assert.match(out, /^rtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/m)
  })

  test('ping --count --json: one JSON object per line', async () => {
    const io = memoryIo()
    assert.equal(await runPing([addr, '--count', '2', '--interval', '0.01', '--json'], io), 0)
    const lines = io.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.equal(lines.length, 3)
    assert.equal(lines[0].ok, true)
    assert.equal(((lines[1].pong as Record<string, unknown>).mon_status as Record<string, unknown>).state, 'leader')
    assert.equal(lines[2].summary, true)
  })

  test('ping errors: one line on stderr, exit 1', async () => {
    const refused = memoryIo()
    assert.equal(await runPing([`v1:127.0.0.1:${await freePort()}`], refused), 1)
    assert.equal(refused.stdout(), '')
    assert.match(refused.stderr(), /^ceph-msgr ping: v1:127\.0\.0\.1:\d+\/0: connection refused \(ECONNREFUSED\)\n$/)

    const features = memoryIo()
    assert.equal(await runPing([addr, '--features', '0x3'], features), 1)
    assert.match(features.stderr(), /^ceph-msgr ping: .*: refused by the mon: peer replied FEATURES .*\n$/)

    const usage = memoryIo()
    assert.equal(await runPing(['not-an-address'], usage), 2)
  })

  test('ping --count redials after the mon restarts and reports the gap', async () => {
    const port = await freePort()
    const target = `v1:127.0.0.1:${port}`
    let m2 = new Monitor({ addr: target })
    await m2.init()
    const io = memoryIo()
    const pinging = runPing([target, '--count', '8', '--interval', '0.1', '--timeout', '1'], io)
    await sleep(250)
    await m2.shutdown(0)
    await sleep(250)
    m2 = new Monitor({ addr: target })
    await m2.init()
    try {
      assert.equal(await pinging, 0)
    } finally {
      await m2.shutdown()
    }
    const out = io.stdout()
    assert.match(out, /^seq=\d: reconnected after \d+ dials?, gap \d+\.\d{3} s since the last pong, \d+ pings? lost$/m)
    assert.match(out, /^8 pings sent, \d pongs received, \d+% loss, 1 reconnect, time \d+ ms$/m)
  })

  test('mon in-process: prints its address, stops on request', async () => {
    const io = memoryIo()
    let stop: () => void = () => {}
    const stopSignal = new Promise<void>((resolve) => { stop = resolve })
    const port = await freePort()
    const running = runMon(['--addr', `v1:127.0.0.1:${port}`, '--name', 'mon.b'], io, stopSignal)
    while (!io.stdout().includes('\n')) await sleep(10)
    assert.equal(io.stdout(), `mon.b listening on v1:127.0.0.1:${port}/0\n`)
    const pc = new MonPingClient(`v1:127.0.0.1:${port}`)
    try {
      assert.equal(monStatus((await pc.ping()).text).name, 'b')
    } finally {
      await pc.close()
    }
    stop()
    assert.equal(await running, 0)
  })

  test('mon: a port in use → one line on stderr, exit 1', async () => {
    const io = memoryIo()
    assert.equal(await runMon(['--addr', addr], io), 1)
    assert.match(io.stderr(), /^ceph-msgr mon: cannot listen on v1:127\.0\.0\.1:\d+\/0: .*EADDRINUSE.*\n$/)
  })

  test('node bin/ceph-msgr.js mon: serves, answers the ping command, metrics, SIGTERM exits 0', { timeout: 30000 }, async () => {
    const [port, mport] = [await freePort(), await freePort()]
    const monProc = spawnCli(['mon', '--addr', `v1:127.0.0.1:${port}`, '--metrics', `127.0.0.1:${mport}`])
    // A client still connected when the signal comes must not hold the shutdown up.
    const client = new MonPingClient(`v1:127.0.0.1:${port}`)
    try {
      assert.equal(await monProc.firstLine, `mon.a listening on v1:127.0.0.1:${port}/0`)
      const ping = spawnCli(['ping', `v1:127.0.0.1:${port}`, '--json'])
      const r = await ping.exited
      assert.equal(r.code, 0, ping.stderr())
      assert.equal(monStatus(ping.stdout()).state, 'leader')
      const metrics = await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text()
      assert.match(metrics, /^ceph_mon_pings_answered_total\{mon="a"\} 1$/m)
      assert.match(metrics, /^ceph_mon_dispatch_latency_seconds_count\{mon="a"\} 2$/m)
      await client.ping()
      assert.ok(client.connection?.isOpen)
    } finally {
      monProc.child.kill('SIGTERM')
    }
    const t0 = Date.now()
    const exit = await monProc.exited
    assert.deepEqual(exit, { code: 0, signal: null }, monProc.stderr())
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms to exit`)
    await client.connection?.closed
    await client.close()
  })

  test('node bin/ceph-msgr.js mon: SIGINT exits 0 too', { timeout: 30000 }, async () => {
    const port = await freePort()
    const monProc = spawnCli(['mon', '--addr', `v1:127.0.0.1:${port}`, '--name', 'c'])
    assert.equal(await monProc.firstLine, `mon.c listening on v1:127.0.0.1:${port}/0`)
    monProc.child.kill('SIGINT')
    assert.deepEqual(await monProc.exited, { code: 0, signal: null }, monProc.stderr())
  })

  test('node bin/ceph-msgr.js ping: ECONNREFUSED is one stderr line, exit 1', async () => {
    const p = spawnCli(['ping', `v1:127.0.0.1:${await freePort()}`])
    const r = await p.exited
    assert.equal(r.code, 1)
    assert.equal(p.stdout(), '')
    assert.equal(p.stderr().trim().split('\n').length, 1)
    assert.match(p.stderr(), /ECONNREFUSED/)
  })
})
