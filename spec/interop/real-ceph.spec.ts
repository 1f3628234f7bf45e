// Interop with a real Ceph (Pacific) over msgr v1: our ping client against a real ceph-mon, the
// real `ceph ping` against our Monitor, reduced feature sets both ways, a real mon restart under
// `ceph-msgr ping --count`, and (if tshark is here) Wireshark's opinion of our bytes.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { AuthProtocol, Feature, createLogger, formatEntityAddr } from '../../lib/index.ts'
import { run as runPing } from '../../lib/cli/ping.ts'
import { MonPingClient, Monitor, PingError, parsePong } from '../../lib/mon/index.ts'
import type { Pong } from '../../lib/mon/index.ts'
import { cephSkipReason, which } from '../support/ceph.ts'
import { run, startCephMon } from '../support/ceph-mon.ts'
import type { CephMon } from '../support/ceph-mon.ts'
import { keyOrder, memoryIo } from '../mon/support.ts'

const skip = cephSkipReason()
const PACIFIC = 0x3f01cfbdfffdffffn
const FIXTURE_PCAP = new URL('../fixtures/ceph-ping-v1/ceph-ping-v1.pcap', import.meta.url).pathname

function state (p: Pong | string): string | undefined {
  const doc = parsePong(typeof p === 'string' ? p : p.text)
  return (doc?.mon_status as { state?: string } | undefined)?.state
}

/** Key structure of a pong without the health checks (a real test mon warns about global_id reclaim). */
function pongKeys (text: string): string[] {
  const doc = parsePong(text)
  assert.ok(doc !== undefined, `not JSON: ${text.slice(0, 200)}`)
  const health = doc.health as Record<string, unknown>
  health.checks = {}
  return keyOrder(doc)
}

/** Ping with a trace logger: also returns the connect_reply tags the handshake saw. */
async function pingTraced (addr: string, features: bigint): Promise<{ pong: Pong, tags: string[] }> {
  const lines: string[] = []
  const pc = new MonPingClient(addr, { features, timeoutMs: 5000, logger: createLogger(20, (l) => { lines.push(l) }) })
  try {
    const pong = await pc.ping()
    const tags = lines.map((l) => JSON.parse(l) as { msg: string, tag?: string }).filter((e) => e.msg === 'connect_reply').map((e) => e.tag ?? '')
    return { pong, tags }
  } finally {
    await pc.close()
  }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

describe('real Ceph over msgr v1', { skip, timeout: 60000 }, () => {
  let real: CephMon
  let ours: Monitor
  let oursAddr: string

  before(async () => {
    if (skip !== undefined) return
    real = await startCephMon()
    ours = new Monitor({ addr: 'v1:127.0.0.1:0', fsid: real.fsid })
    oursAddr = formatEntityAddr(await ours.init())
  })

  after(async () => {
    await ours?.shutdown()
    await real?.stop()
  })

  test('our client pings the real mon: MAuthReply, MMonMap and the pong decode', async (t) => {
    const pc = new MonPingClient(real.v1Addr, { timeoutMs: 5000 })
    try {
      const pong = await pc.ping()
      assert.equal(state(pong), 'leader')
      const st = parsePong(pong.text)?.mon_status as { name: string, monmap: { fsid: string } }
      assert.equal(st.name, 'a')
      assert.equal(st.monmap.fsid, real.fsid)
      assert.equal(pong.from.type, 1)
      assert.equal(pong.from.num, 0)
      // The real mon answers MPing directly but MAuth through its AuthMonitor: the pong may come first.
      for (let i = 0; i < 100 && (pc.lastAuthReply === undefined || pc.lastMonMap === undefined); i++) await sleep(20)
      assert.equal(pc.lastAuthReply?.protocol, AuthProtocol.NONE)
      assert.equal(pc.lastAuthReply?.result, 0)
      assert.ok((pc.lastAuthReply?.globalId ?? 0n) > 0n)
      assert.equal(pc.lastMonMap?.fsid, real.fsid)
      assert.ok(pc.lastMonMap?.mons[0].addrs.some((a) => a.port === real.v1Port))
      // Our mon's pong has the real one's keys, order and nesting.
      const mine = new MonPingClient(oursAddr)
      try {
        assert.deepEqual(pongKeys((await mine.ping()).text), pongKeys(pong.text))
      } finally {
        await mine.close()
      }
      const rtts: number[] = []
      for (let i = 0; i < 20; i++) rtts.push((await pc.ping()).rttMs)
      t.diagnostic(`real mon: connect ${pong.connectMs?.toFixed(2)} ms, ping RTT median ${median(rtts).toFixed(3)} ms (20 pings)`)
    } finally {
      await pc.close()
    }
  })

  test('the real `ceph ping mon.a` pings our mon', async (t) => {
    const before = { auth: ours.counters.authRequests, pings: ours.counters.pingsAnswered }
    const t0 = performance.now()
    const r = await run('ceph', ['-c', real.clientConfPath, '-m', oursAddr.replace(/\/0$/, ''), '--connect-timeout', '10', 'ping', 'mon.a'], { timeoutMs: 20000, cwd: real.dir })
    t.diagnostic(`ceph ping against our mon: ${(performance.now() - t0).toFixed(0)} ms`)
    assert.equal(r.code, 0, r.stderr)
    assert.ok(ours.lastPong !== undefined)
    // The CLI prints the string it got plus a newline.
    assert.equal(r.stdout, ours.lastPong + '\n')
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(ours.lastPong))
    assert.equal(state(r.stdout), 'leader')
    assert.equal(ours.counters.authRequests, before.auth + 1)
    assert.equal(ours.counters.pingsAnswered, before.pings + 1)
    // The pong counted the real client in its feature_map.
    const fm = (parsePong(r.stdout)?.mon_status as { feature_map: { client: Array<{ features: string }> } }).feature_map
    assert.ok(fm.client.some((e) => e.features === '0x3f01cfbdfffdffff'))
  })

  test('fewer features work against both mons; too few get a clean FEATURES refusal', async () => {
    const cases = [
      { name: 'no MSG_AUTH (13-byte footers)', features: PACIFIC & ~Feature.MSG_AUTH, tag: 'SEQ' },
      { name: 'no RECONNECT_SEQ (READY)', features: PACIFIC & ~Feature.RECONNECT_SEQ, tag: 'READY' },
      { name: 'neither', features: PACIFIC & ~(Feature.MSG_AUTH | Feature.RECONNECT_SEQ), tag: 'READY' }
    ]
    for (const target of [real.v1Addr, oursAddr]) {
      for (const c of cases) {
        const { pong, tags } = await pingTraced(target, c.features)
        assert.equal(state(pong), 'leader', `${c.name} → ${target}`)
        assert.deepEqual(tags, [c.tag], `${c.name} → ${target}`)
        assert.equal(pong.connection.features & (PACIFIC & ~c.features), 0n)
      }
      const pc = new MonPingClient(target, { features: 0x1n | Feature.NOSRCADDR, timeoutMs: 5000 })
      try {
        await assert.rejects(pc.ping(), (e: unknown) => {
          assert.ok(e instanceof PingError, String(e))
          assert.equal(e.kind, 'refused')
          assert.match(e.message, /FEATURES/)
          return true
        })
      } finally {
        await pc.close()
      }
      const io = memoryIo()
      assert.equal(await runPing([target, '--features', '0x3'], io), 1)
      assert.equal(io.stdout(), '')
      assert.match(io.stderr(), /^ceph-msgr ping: v1:127\.0\.0\.1:\d+\/0: refused by the mon: peer replied FEATURES \(requires 0x[0-9a-f]+, missing 0x[0-9a-f]+\)\n$/)
    }
  })

  test('ceph-msgr ping --count keeps pinging across a restart of the real mon', async (t) => {
    const io = memoryIo()
    const pinging = runPing([real.v1Addr, '--count', '16', '--interval', '0.5', '--timeout', '2'], io)
    await sleep(1200)
    await real.restart()
    t.diagnostic(`real mon leader again after ${real.readyMs.toFixed(0)} ms`)
    assert.equal(await pinging, 0, io.stderr())
    const out = io.stdout()
    t.diagnostic(out.split('\n').filter((l) => /reconnected|no pong|statistics|pongs received|rtt/.test(l)).join('\n'))
    const m = /^seq=(\d+): reconnected after \d+ dials?, gap (\d+\.\d{3}) s since the last pong, (\d+) pings? lost$/m.exec(out)
    assert.ok(m !== null, out)
    assert.ok(Number(m[2]) > 0.5, `gap ${m[2]} s`)
    assert.match(out, /^16 pings sent, \d+ pongs received, \d+% loss, 1 reconnect, time \d+ ms$/m)
    // Pongs on both sides of the outage.
    const seqs = [...out.matchAll(/: seq=(\d+) time=/g)].map((x) => Number(x[1]))
    assert.ok(seqs.some((s) => s < Number(m[1])) && seqs.some((s) => s >= Number(m[1])), out)
  })

  test('tshark finds nothing malformed in our client ↔ our mon beyond what it finds in the real capture', async (t) => {
    if (which('tshark') === undefined || which('dumpcap') === undefined) {
      t.skip('tshark/dumpcap not installed (apt-get install tshark)')
      return
    }
    const dir = await mkdtemp(join(tmpdir(), 'ceph-msgr-pcap-'))
    try {
      const file = join(dir, 'ours.pcapng')
      const cap = spawn('dumpcap', ['-i', 'lo', '-f', `tcp port ${ours.addr.port}`, '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] })
      let capErr = ''
      const exited = new Promise<number | null>((resolve) => { cap.once('exit', (code) => { resolve(code) }) })
      const started = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => { resolve(false) }, 5000)
        cap.stderr.on('data', (b: Buffer) => {
          capErr += b.toString()
          if (capErr.includes('Capturing on')) { clearTimeout(timer); resolve(true) }
        })
        cap.once('exit', () => { clearTimeout(timer); resolve(false) })
      })
      if (!started) {
        cap.kill('SIGKILL')
        t.skip(`cannot capture on lo here: ${capErr.trim().split('\n').pop() ?? 'dumpcap did not start'}`)
        return
      }
      await sleep(200)
      const pc = new MonPingClient(oursAddr)
      try {
        await pc.ping()
        await pc.ping()
      } finally {
        await pc.close()
      }
      await sleep(300)
      cap.kill('SIGTERM')
      await exited

      const analyse = async (path: string): Promise<{ messages: string[], malformedIn: string[] }> => {
        const r = await run('tshark', ['-r', path, '-V'], { timeoutMs: 20000 })
        assert.equal(r.code, 0, r.stderr)
        const messages: string[] = []
        const malformedIn: string[] = []
        let last = 'non-Ceph'
        for (const line of r.stdout.split('\n')) {
          if (/^Frame \d+:/.test(line)) last = 'non-Ceph'
          const m = /^Ceph (.+)$/.exec(line)
          if (m !== null) {
            last = m[1].split(',')[0]
            messages.push(last)
          }
          if (line.startsWith('[Malformed Packet')) malformedIn.push(last)
        }
        return { messages, malformedIn }
      }
      const mine = await analyse(file)
      const ref = await analyse(FIXTURE_PCAP)
      t.diagnostic(`ours: ${mine.messages.length} Ceph PDUs, malformed in [${mine.malformedIn.join(', ')}]; real capture: malformed in [${ref.malformedIn.join(', ')}]`)
      for (const name of ['Connect', 'Connect Reply', 'Sequence Number', 'Auth', 'Ping', 'Auth Reply', 'Mon Map']) {
        assert.ok(mine.messages.includes(name), `tshark did not see ${name} in ours: ${mine.messages.join(', ')}`)
      }
      const known = new Set(ref.malformedIn)
      assert.deepEqual(mine.malformedIn.filter((n) => !known.has(n)), [], 'malformed only where the real capture is too')
      assert.deepEqual(mine.messages.filter((n) => n.startsWith('UNKNOWN') && !ref.messages.includes(n)), [])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
