// /metrics (issue 16, Observability): the exposition parses (parse-prometheus-text-format, plus the
// stricter line checks below: that parser accepts any value text), follows Prometheus' naming
// conventions, and no counter ever decreases while clients come and go.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import parsePrometheus from 'parse-prometheus-text-format'
import type { PromFamily } from 'parse-prometheus-text-format'
import { run as runMon } from '../../lib/cli/mon.ts'
import { MonPingClient, Monitor, MonitorMetrics, serveMetrics } from '../../lib/mon/index.ts'
import type { MetricsServer } from '../../lib/mon/index.ts'
import { memoryIo } from '../mon/support.ts'

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
// Prometheus reads values with Go's ParseFloat: NaN and Inf in any case (prom-client writes "Nan").
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|[+-]inf)$/i
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$/

interface Exposition {
  families: PromFamily[]
  /** Every sample line: series (name + label text) → value. */
  series: Map<string, number>
  types: Map<string, string>
}

/** Parse with the registry's parser, and check what it lets through: names, values, TYPE order and suffixes. */
function parseStrict (text: string): Exposition {
  const families = parsePrometheus(text)
  const types = new Map<string, string>()
  const series = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ')
      assert.match(name, NAME)
      assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type), line)
      assert.ok(!types.has(name), `TYPE given twice for ${name}`)
      types.set(name, type)
      continue
    }
    assert.ok(!line.startsWith('#'), `stray comment: ${line}`)
    const m = SAMPLE.exec(line)
    assert.ok(m !== null, `not a sample line: ${line}`)
    assert.match(m[3], VALUE, line)
    // The family this sample belongs to was declared before it, and the suffix fits its type.
    const name = m[1]
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n))
    assert.ok(family !== undefined, `sample before its TYPE: ${line}`)
    const type = types.get(family)
    if (name !== family) assert.ok(type === 'histogram' || (type === 'summary' && !name.endsWith('_bucket')), `${name} in a ${type}`)
    assert.ok(!series.has(m[1] + (m[2] ?? '')), `duplicate series: ${line}`)
    series.set(m[1] + (m[2] ?? ''), Number(m[3].replace(/inf/i, 'Infinity').replace(/^nan$/i, 'NaN')))
  }
  assert.equal(families.length, types.size, 'the parser saw other families than the TYPE lines')
  return { families, series, types }
}

/** Prometheus' naming conventions for what we expose (ceph_*; prom-client's process_* and nodejs_* are its own). */
function assertNaming (e: Exposition): void {
  assert.ok([...e.types.keys()].some((n) => n.startsWith('ceph_')))
  for (const [name, type] of e.types) {
    if (!name.startsWith('ceph_')) continue
    if (type === 'counter') assert.match(name, /_total$/, `counter ${name} without _total`)
    else assert.doesNotMatch(name, /_total$/, `${type} ${name} named _total`)
    assert.doesNotMatch(name, /_sum_total$|_count_total$/, name)
    assert.doesNotMatch(name, /(_ms|_milliseconds|_msec)(_|$)/, `${name}: use seconds`)
  }
  for (const f of e.families) {
    if (!f.name.startsWith('ceph_')) continue
    if (f.type === 'HISTOGRAM' || f.type === 'SUMMARY') {
      assert.ok([...e.series.keys()].some((k) => k.startsWith(`${f.name}_sum`)) && [...e.series.keys()].some((k) => k.startsWith(`${f.name}_count`)), `${f.name} without _sum/_count`)
    }
  }
}

/** Every counter series (and histogram/summary part) of `a` is still there in `b`, not smaller. */
function assertNoCounterDecreased (a: Exposition, b: Exposition, when: string): void {
  for (const [key, v] of a.series) {
    const name = key.replace(/\{.*$/, '')
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => a.types.has(n)) as string
    const type = a.types.get(family)
    if (type !== 'counter' && type !== 'histogram' && type !== 'summary') continue
    if (family.startsWith('process_') || family.startsWith('nodejs_')) continue // prom-client's own
    const w = b.series.get(key)
    assert.ok(w !== undefined, `${key} vanished ${when}`)
    assert.ok(w >= v, `${key} went backwards ${when}: ${v} → ${w}`)
  }
}

const value = (e: Exposition, series: string): number => {
  const v = e.series.get(series)
  assert.ok(v !== undefined, `no ${series}`)
  return v
}

describe('/metrics while clients come and go', () => {
  let mon: Monitor
  let server: MetricsServer
  let target: string

  before(async () => {
    mon = new Monitor({ id: 'a', addr: 'v1:127.0.0.1:0' })
    const addr = await mon.init()
    target = `v1:127.0.0.1:${addr.port}`
    const metrics = new MonitorMetrics(mon, { defaultMetrics: true })
    server = await serveMetrics('127.0.0.1', 0, () => metrics.metrics())
  })
  after(async () => {
    await server.close()
    await mon.shutdown(0)
  })

  async function scrape (): Promise<Exposition> {
    const res = await fetch(server.url)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    const e = parseStrict(await res.text())
    assertNaming(e)
    return e
  }

  async function allClosed (): Promise<void> {
    for (let i = 0; i < 250 && mon.messenger.connections.size > 0; i++) await sleep(20)
    assert.equal(mon.messenger.connections.size, 0, 'the mon still has connections')
  }

  test('before, during and after three rounds of clients: parses, named right, no counter decreases', async () => {
    const scrapes: Array<[string, Exposition]> = [['before any client', await scrape()]]
    assert.equal(value(scrapes[0][1], 'ceph_msgr_send_messages_total{mon="a"}'), 0)
    for (let round = 1; round <= 3; round++) {
      const clients = Array.from({ length: 4 }, () => new MonPingClient(target, { timeoutMs: 5000 }))
      for (const c of clients) { await c.ping(); await c.ping() }
      // Round 2 is never scraped while its clients are connected: their counters must still count.
      if (round !== 2) scrapes.push([`with round ${round}'s clients connected`, await scrape()])
      await Promise.all(clients.map((c) => c.close()))
      await allClosed()
      scrapes.push([`after round ${round}'s clients left`, await scrape()])
    }
    for (let i = 1; i < scrapes.length; i++) assertNoCounterDecreased(scrapes[i - 1][1], scrapes[i][1], `from "${scrapes[i - 1][0]}" to "${scrapes[i][0]}"`)

    const last = scrapes[scrapes.length - 1][1]
    // 12 clients, each sent an MAuthReply, an MMonMap and two pongs: all of it still counted.
    assert.ok(value(last, 'ceph_msgr_send_messages_total{mon="a"}') >= 48, 'messages sent to closed connections were lost')
    assert.ok(value(last, 'ceph_msgr_send_bytes_total{mon="a"}') > 48 * 50)
    assert.ok(value(last, 'ceph_msgr_recv_bytes_total{mon="a"}') > 0)
    assert.equal(value(last, 'ceph_mon_pings_answered_total{mon="a"}'), 24)
    assert.equal(value(last, 'ceph_msgr_active_connections{mon="a"}'), 0)
    assert.equal(value(last, 'ceph_mon_connected_clients{mon="a"}'), 0)
    assert.ok(value(last, 'ceph_mon_dispatch_latency_seconds_count{mon="a"}') >= 36)
    assert.equal(value(last, 'ceph_mon_dispatch_latency_seconds_bucket{mon="a",le="+Inf"}'), value(last, 'ceph_mon_dispatch_latency_seconds_count{mon="a"}'))
    // Latencies in seconds, as summaries; prom-client's process metrics beside ours.
    assert.equal(last.types.get('ceph_msgr_dispatch_latency_seconds'), 'summary')
    assert.equal(last.types.get('ceph_msgr_dispatch_latency_max_seconds'), 'gauge')
    assert.equal(last.types.get('process_cpu_seconds_total'), 'counter')
    // The by-type counter keeps its labels.
    assert.ok(value(last, 'ceph_msgr_recv_messages_by_type_total{mon="a",type="2",type_name="PING"}') >= 24)
  })
})

test('ceph-msgr mon --metrics serves the same exposition (with process metrics)', async () => {
  const io = memoryIo()
  let stop: () => void = () => {}
  const stopped = new Promise<void>((resolve) => { stop = resolve })
  const code = runMon(['--addr', 'v1:127.0.0.1:0', '--metrics', '127.0.0.1:0'], io, stopped)
  try {
    let url: RegExpExecArray | null = null
    for (let i = 0; i < 200 && url === null; i++) { await sleep(10); url = /metrics at (\S+)/.exec(io.stderr()) }
    assert.ok(url !== null, io.stderr())
    const e = parseStrict(await (await fetch(url[1])).text())
    assertNaming(e)
    assert.equal(e.types.get('ceph_mon_pings_answered_total'), 'counter')
    assert.equal(e.types.get('nodejs_heap_size_total_bytes'), 'gauge')
  } finally {
    stop()
    assert.equal(await code, 0)
  }
})
