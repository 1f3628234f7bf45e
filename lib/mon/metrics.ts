// Prometheus metrics for the example mon, rendered by prom-client (the ecosystem's client: its
// Registry, text format, content type and the process/Node.js default metrics) from state that
// lives elsewhere: the Monitor's counters and latency histogram, and the messenger's perfDump().
// Every family is computed at scrape time (a "collector" in Prometheus terms).
//
// Counters never go backwards: the messenger's sums over its connections include closed ones,
// and a last guard (MonotonicGuard) holds any counter that would still decrease (a source that
// restarted) at its last value.
// Names follow Prometheus' conventions: seconds not milliseconds, `_total` only on counters,
// no `_sum`/`_count` outside summaries and histograms.
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { performance } from 'node:perf_hooks'
import { Registry, collectDefaultMetrics } from 'prom-client'
import type { Metric } from 'prom-client'
import { msgTypeName } from '../wire/constants.ts'

/** A cumulative histogram with fixed upper bounds (seconds, for latencies). */
export class Histogram {
  readonly bounds: readonly number[]
  /** counts[i] = observations <= bounds[i] (not cumulative; rendering accumulates). */
  private readonly counts: number[]
  sum = 0
  count = 0

  constructor (bounds: readonly number[]) {
    this.bounds = [...bounds].sort((a, b) => a - b)
    this.counts = new Array<number>(this.bounds.length).fill(0)
  }

  observe (v: number): void {
    this.sum += v
    this.count++
    const i = this.bounds.findIndex((b) => v <= b)
    if (i >= 0) this.counts[i]++
  }

  /** [upper bound, cumulative count] pairs, ending with +Inf. */
  cumulative (): Array<[number, number]> {
    let acc = 0
    const out: Array<[number, number]> = this.bounds.map((b, i) => [b, acc += this.counts[i]])
    out.push([Infinity, this.count])
    return out
  }
}

/** Latency buckets from 50 µs to 1 s: a loopback ping is handled in well under a millisecond. */
export const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

export type Labels = Record<string, string>

function escapeLabel (v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function labelText (labels: Labels | undefined, extra?: [string, string]): string {
  const all = Object.entries(labels ?? {})
  if (extra !== undefined) all.push(extra)
  if (all.length === 0) return ''
  return '{' + all.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',') + '}'
}

function num (v: number): string {
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return Number.isNaN(v) ? 'NaN' : String(v)
}

/** Collects one scrape's worth of metrics in the text exposition format. */
export class Exposition {
  private readonly lines: string[] = []
  private readonly declared = new Set<string>()

  private declare (name: string, type: string, help: string): void {
    if (this.declared.has(name)) return
    this.declared.add(name)
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`)
  }

  counter (name: string, help: string, value: number, labels?: Labels): this {
    this.declare(name, 'counter', help)
    this.lines.push(`${name}${labelText(labels)} ${num(value)}`)
    return this
  }

  gauge (name: string, help: string, value: number, labels?: Labels): this {
    this.declare(name, 'gauge', help)
    this.lines.push(`${name}${labelText(labels)} ${num(value)}`)
    return this
  }

  histogram (name: string, help: string, h: Histogram, labels?: Labels): this {
    this.declare(name, 'histogram', help)
    for (const [le, n] of h.cumulative()) this.lines.push(`${name}_bucket${labelText(labels, ['le', num(le)])} ${n}`)
    this.lines.push(`${name}_sum${labelText(labels)} ${num(h.sum)}`, `${name}_count${labelText(labels)} ${h.count}`)
    return this
  }

  toString (): string {
    return this.lines.join('\n') + '\n'
  }
}

/** Metric names allow [a-zA-Z0-9_:]; perf counter keys are mostly that already. */
export function metricName (s: string): string {
  return s.replace(/[^a-zA-Z0-9_:]/g, '_')
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export interface MetricsServer {
  /** http://HOST:PORT/metrics */
  url: string
  port: number
  close: () => Promise<void>
}

/** Serve `render()` at GET /metrics on host:port (port 0 = any free port). */
export function serveMetrics (host: string, port: number, render: () => string | Promise<string>): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => { void respond(req, res) })
  const respond = async (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    let body: string
    try {
      body = await render()
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`render failed: ${String(e)}\n`)
      return
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) })
    res.end(req.method === 'HEAD' ? undefined : body)
  }
  // Scrapers keep connections alive; don't let them hold shutdown up.
  server.keepAliveTimeout = 1000
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port }, () => {
      server.off('error', reject)
      const a = server.address()
      const bound = a !== null && typeof a === 'object' ? a.port : port
      const shown = host.includes(':') ? `[${host}]` : host
      resolve({
        url: `http://${shown}:${bound}/metrics`,
        port: bound,
        close: () => new Promise<void>((resolve) => {
          server.close(() => { resolve() })
          server.closeAllConnections()
        })
      })
    })
  })
}

// ---- prom-client collectors ---------------------------------------------------------------------

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary'

/** One sample line: `metricName` defaults to the family's name (histograms add _bucket/_sum/_count). */
export interface Sample {
  value: number
  labels?: Labels
  metricName?: string
}

/** One metric family computed at scrape time. */
export interface Family {
  name: string
  help: string
  type: MetricType
  samples: Sample[]
}

/**
 * A family computed by someone else, in the shape prom-client's Registry renders (its `get()`),
 * so that one Registry holds our families beside prom-client's own metrics.
 */
class ComputedMetric {
  readonly name: string
  help: string
  type: MetricType
  samples: Sample[] = []
  readonly aggregator = 'sum'
  constructor (f: Family) {
    this.name = f.name
    this.help = f.help
    this.type = f.type
  }

  get (): { name: string, help: string, type: MetricType, values: Sample[], aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: this.samples, aggregator: this.aggregator }
  }

  reset (): void {}
}

/** Histogram samples (cumulative buckets, +Inf, sum, count) from our Histogram. */
export function histogramSamples (name: string, h: Histogram, labels: Labels = {}): Sample[] {
  const out: Sample[] = h.cumulative().map(([le, n]) => ({ metricName: `${name}_bucket`, labels: { ...labels, le: num(le) }, value: n }))
  out.push({ metricName: `${name}_sum`, labels, value: h.sum }, { metricName: `${name}_count`, labels, value: h.count })
  return out
}

const seriesKey = (name: string, labels: Labels | undefined): string => name + JSON.stringify(Object.entries(labels ?? {}).sort())

/**
 * Holds counters monotonic: a counter that would go below the last value it was exposed at
 * (its source restarted or lost a part) continues from there instead.
 */
export class MonotonicGuard {
  private readonly last = new Map<string, { raw: number, shown: number }>()

  /** The value to expose for this series, given its source's value now. */
  apply (name: string, labels: Labels | undefined, raw: number): number {
    const k = seriesKey(name, labels)
    const prev = this.last.get(k)
    const shown = prev === undefined ? raw : prev.shown + Math.max(0, raw - prev.raw)
    this.last.set(k, { raw, shown })
    return shown
  }
}

const snake = (k: string): string => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()

/** Perf keys that are levels, not running totals. */
const GAUGE_KEY = /(^|_)(length|waiting|current|max|active_connections|buffers|bytes_held)$/

/**
 * The messenger's perfDump() as Prometheus families, named ceph_msgr_*: counters `_total`,
 * levels as gauges, milliseconds as seconds, average latencies as summaries (sum and count).
 * The messenger sums its connections' counters over closed connections too, so they only grow.
 */
export function messengerFamilies (dump: Record<string, unknown>, labels: Labels): Family[] {
  const fams: Family[] = []
  const add = (name: string, type: MetricType, help: string, samples: Sample[]): void => { fams.push({ name: metricName(name), type, help, samples }) }
  const info: Labels = { ...labels }
  for (const k of ['name', 'addr']) if (typeof dump[k] === 'string') info[k] = dump[k]
  add('ceph_msgr_info', 'gauge', 'The messenger: its entity name and address', [{ value: 1, labels: info }])
  walk(dump, 'ceph_', labels, add, true)
  return fams
}

function walk (dump: Record<string, unknown>, prefix: string, labels: Labels, add: (name: string, type: MetricType, help: string, samples: Sample[]) => void, top: boolean): void {
  // Strings inside a section label it (a throttle's name); the top level's went to ceph_msgr_info.
  const own: Labels = { ...labels }
  if (!top) for (const [k, v] of Object.entries(dump)) if (typeof v === 'string') own[snake(k)] = v
  for (const [k, v] of Object.entries(dump)) {
    const key = snake(k)
    const base = prefix + (top && !key.startsWith('msgr_') ? 'msgr_' : '') + key
    const help = `messenger perf counter ${top ? k : `${prefix.replace(/^ceph_msgr_/, '')}${key}`}`
    if (typeof v === 'number') {
      let m: RegExpExecArray | null
      if ((m = /^(.*)_avg_ms$/.exec(base)) !== null) {
        // An average over the dispatched messages: a summary of sum and count.
        const count = typeof dump.dispatched === 'number' ? dump.dispatched : typeof dump.msgr_dispatched === 'number' ? dump.msgr_dispatched : undefined
        if (count !== undefined) {
          const name = `${m[1]}_seconds`
          add(name, 'summary', `${help} (sum and count)`, [{ metricName: `${name}_sum`, labels: own, value: v * count / 1000 }, { metricName: `${name}_count`, labels: own, value: count }])
        }
      } else if ((m = /^(.*)_max_ms$/.exec(base)) !== null) {
        add(`${m[1]}_max_seconds`, 'gauge', help, [{ value: v / 1000, labels: own }])
      } else if (GAUGE_KEY.test(base) || (base.endsWith('_bytes') && prefix.endsWith('payload_pool_'))) {
        add(base, 'gauge', help, [{ value: v, labels: own }])
      } else {
        // `_sum` is a summary's suffix in Prometheus: a throttle's get_sum is an amount.
        const name = base.replace(/_sum$/, '_amount') + '_total'
        add(name, 'counter', help, [{ value: v, labels: own }])
      }
    } else if (k === 'msgr_recv_messages_by_type' && v !== null && typeof v === 'object') {
      add('ceph_msgr_recv_messages_by_type_total', 'counter', 'Messages received, by type',
        Object.entries(v as Record<string, number>).map(([type, n]) => ({ value: n, labels: { ...own, type, type_name: msgTypeName(Number(type)) } })))
    } else if (v !== null && typeof v === 'object') {
      walk(v as Record<string, unknown>, `${base}_`, own, add, false)
    }
  }
}

/** What MonitorMetrics reads of a Monitor (structural: lib/mon/monitor.ts's Monitor fits). */
export interface MetricsSource {
  readonly id: string
  readonly counters: object
  readonly dispatchLatency: Histogram
  readonly messenger: { perfDump: () => Record<string, unknown> }
  connectedClients: () => number
}

const MON_COUNTERS: Readonly<Record<string, [string, string]>> = {
  pingsAnswered: ['ceph_mon_pings_answered_total', 'MPing requests answered with a pong'],
  authRequests: ['ceph_mon_auth_requests_total', 'MAuth requests received'],
  authFailures: ['ceph_mon_auth_failures_total', 'MAuth requests answered with an error'],
  getMapRequests: ['ceph_mon_get_map_requests_total', 'MMonGetMap requests received'],
  monmapsSent: ['ceph_mon_monmaps_sent_total', 'MMonMap messages sent'],
  dropped: ['ceph_mon_messages_dropped_total', 'Messages of types the mon does not handle'],
  clientsAccepted: ['ceph_mon_clients_accepted_total', 'Client connections accepted']
}

export interface MonitorMetricsOptions {
  /** prom-client's process and Node.js metrics (process_cpu_seconds_total, nodejs_heap_size_*, ...). Default false. */
  defaultMetrics?: boolean
  /** Use this Registry (default: a new one; never prom-client's global one). */
  registry?: Registry
}

/**
 * A mon's /metrics through prom-client: the Monitor's counters (ceph_mon_*), its dispatch latency
 * histogram, the messenger's perf counters (ceph_msgr_*, every counter monotonic across closed
 * connections) and optionally prom-client's default metrics. Attach it right after init().
 */
export class MonitorMetrics {
  readonly registry: Registry
  private readonly mon: MetricsSource
  private readonly guard = new MonotonicGuard()
  private readonly families = new Map<string, ComputedMetric>()
  private readonly attachedAt = performance.now()

  constructor (mon: MetricsSource, opts: MonitorMetricsOptions = {}) {
    this.mon = mon
    this.registry = opts.registry ?? new Registry()
    if (opts.defaultMetrics === true) collectDefaultMetrics({ register: this.registry })
  }

  get contentType (): string {
    return this.registry.contentType
  }

  /** Every family, computed now (before the monotonic guard). */
  collect (): Family[] {
    const labels = { mon: this.mon.id }
    const fams: Family[] = []
    const counters = this.mon.counters as Record<string, unknown>
    for (const [k, v] of Object.entries(counters)) {
      if (typeof v !== 'number') continue
      const [name, help] = MON_COUNTERS[k] ?? [`ceph_mon_${snake(k)}_total`, `mon counter ${k}`]
      fams.push({ name, help, type: 'counter', samples: [{ value: v, labels }] })
    }
    fams.push(
      { name: 'ceph_mon_connected_clients', help: 'Client connections open now', type: 'gauge', samples: [{ value: this.mon.connectedClients(), labels }] },
      { name: 'ceph_mon_quorum_age_seconds', help: 'Seconds since this mon became leader (since its metrics were attached, right after init)', type: 'gauge', samples: [{ value: (performance.now() - this.attachedAt) / 1000, labels }] },
      { name: 'ceph_mon_dispatch_latency_seconds', help: 'From receipt of a request to its reply being queued', type: 'histogram', samples: histogramSamples('ceph_mon_dispatch_latency_seconds', this.mon.dispatchLatency, labels) }
    )
    fams.push(...messengerFamilies(this.mon.messenger.perfDump(), labels))
    return fams
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  async metrics (): Promise<string> {
    const fams = this.collect()
    const now = new Set<string>()
    for (const f of fams) {
      if (f.type === 'counter') for (const s of f.samples) s.value = this.guard.apply(s.metricName ?? f.name, s.labels, s.value)
      // A histogram's or summary's _sum and _count only grow too.
      if (f.type === 'histogram' || f.type === 'summary') for (const s of f.samples) s.value = this.guard.apply(s.metricName ?? f.name, s.labels, s.value)
      let m = this.families.get(f.name)
      if (m === undefined) {
        m = new ComputedMetric(f)
        this.families.set(f.name, m)
        this.registry.registerMetric(m as unknown as Metric)
      }
      m.samples = f.samples
      now.add(f.name)
    }
    for (const [name, m] of this.families) {
      if (!now.has(name)) m.samples = []
    }
    return this.registry.metrics()
  }
}
