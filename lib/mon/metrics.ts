// Prometheus metrics without a dependency: the text exposition format (version 0.0.4) is a few
// lines per metric, and a mon needs counters, gauges and one histogram. Writing it by hand keeps
// the library free of prom-client's global registry and transitive packages; node:http serves it.
import { createServer } from 'node:http'
import type { Server } from 'node:http'

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
export function serveMetrics (host: string, port: number, render: () => string): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
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
      body = render()
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`render failed: ${String(e)}\n`)
      return
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) })
    res.end(req.method === 'HEAD' ? undefined : body)
  })
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
