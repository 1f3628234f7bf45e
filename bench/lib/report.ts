// Output: the table on stdout, the JSON document, and the throughput chart (hand-written SVG).

export interface CaseResult {
  name: string
  unit: string
  ours: number | null
  baseline: number | null
  baseline_name: string
  ratio: number | null
  /** Why a value is null, or how to read it. */
  note?: string
  /** Secondary numbers (MB/s, counts, durations). */
  extra?: Record<string, number | string>
}

export interface BenchReport {
  node: string
  cpu: string
  platform: string
  quick: boolean
  /** Workers ran with glibc's heap trimming and mmap threshold raised (--malloc-tuned). */
  malloc_tuned: boolean
  date: string
  duration_s: number
  cases: CaseResult[]
}

export function ratioOf (ours: number | null, baseline: number | null): number | null {
  if (ours === null || baseline === null || baseline === 0 || !Number.isFinite(ours) || !Number.isFinite(baseline)) return null
  return ours / baseline
}

export function fmt (x: number | null, digits = 3): string {
  if (x === null) return '-'
  const a = Math.abs(x)
  if (a >= 1e9) return (x / 1e9).toFixed(2) + 'G'
  if (a >= 1e6) return (x / 1e6).toFixed(2) + 'M'
  if (a >= 1e4) return (x / 1e3).toFixed(1) + 'k'
  if (a >= 100 || Number.isInteger(x)) return String(Math.round(x))
  return x.toPrecision(digits)
}

function extraText (c: CaseResult): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(c.extra ?? {})) parts.push(`${k}=${typeof v === 'number' ? fmt(v) : v}`)
  if (c.note !== undefined) parts.push(c.note)
  return parts.join(' ')
}

export function table (cases: CaseResult[]): string {
  const head = ['case', 'unit', 'ours', 'baseline', 'baseline name', 'ratio', 'details']
  const rows = cases.map((c) => [c.name, c.unit, fmt(c.ours), fmt(c.baseline), c.baseline_name, c.ratio === null ? '-' : c.ratio.toFixed(3), extraText(c)])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => i === head.length - 1 ? 0 : r[i].length)))
  const line = (r: string[]): string => r.map((x, i) => i === head.length - 1 ? x : (i >= 2 && i <= 5 && i !== 4 ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  ').trimEnd()
  return [line(head), line(widths.map((w, i) => '-'.repeat(i === head.length - 1 ? 7 : w))), ...rows.map(line)].join('\n') + '\n'
}

// ---- SVG ----------------------------------------------------------------------------------------

export interface ThroughputPoint {
  label: string
  /** MB/s (10^6 bytes per second); null when not measured. */
  ours: number | null
  raw: number | null
  oursMsgs: number | null
  rawMsgs: number | null
}

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Grouped bars, MB/s on a log scale, one group per message size. */
export function throughputSvg (points: ThroughputPoint[], subtitle: string): string {
  const W = 720
  const H = 420
  const left = 70
  const right = 20
  const top = 60
  const bottom = 80
  const plotW = W - left - right
  const plotH = H - top - bottom
  const values = points.flatMap((p) => [p.ours, p.raw]).filter((v): v is number => v !== null && v > 0)
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...values, 10))))
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...values, 100))))
  const y = (v: number): number => top + plotH - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * plotH
  const colors = { ours: '#1f77b4', raw: '#ff7f0e' }
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`)
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">One-way throughput by message size: ceph-msgr vs raw TCP</text>`)
  out.push(`<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`)
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const yy = y(d).toFixed(1)
    out.push(`<line x1="${left}" x2="${W - right}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`)
    out.push(`<text x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${fmt(d)}</text>`)
  }
  out.push(`<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">MB/s (log scale)</text>`)
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`)
  out.push(`<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`)
  const group = plotW / Math.max(1, points.length)
  const bar = Math.min(60, group / 3)
  points.forEach((p, i) => {
    const cx = left + group * (i + 0.5)
    const bars: Array<[number | null, number | null, string, number]> = [[p.ours, p.oursMsgs, colors.ours, cx - bar - 2], [p.raw, p.rawMsgs, colors.raw, cx + 2]]
    for (const [v, msgs, color, x] of bars) {
      if (v === null || v <= 0) continue
      const yy = y(Math.max(v, lo))
      out.push(`<rect x="${x.toFixed(1)}" y="${yy.toFixed(1)}" width="${bar.toFixed(1)}" height="${(top + plotH - yy).toFixed(1)}" fill="${color}"/>`)
      out.push(`<text x="${(x + bar / 2).toFixed(1)}" y="${(yy - 4).toFixed(1)}" text-anchor="middle" font-size="11">${fmt(v)}</text>`)
      if (msgs !== null) out.push(`<text x="${(x + bar / 2).toFixed(1)}" y="${top + plotH + 32}" text-anchor="middle" font-size="10" fill="#555">${fmt(msgs)}/s</text>`)
    }
    out.push(`<text x="${cx.toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle" font-weight="bold">${esc(p.label)}</text>`)
  })
  out.push(`<text x="${left}" y="${H - 18}" fill="#555" font-size="11">messages/s under each bar</text>`)
  // Legend top left: the small-message bars there are the shortest.
  const lx = left + 12
  const ly = top + 8
  out.push(`<rect x="${lx - 6}" y="${ly - 4}" width="240" height="44" fill="#fff" stroke="#ccc"/>`)
  out.push(`<rect x="${lx}" y="${ly + 2}" width="12" height="12" fill="${colors.ours}"/><text x="${lx + 18}" y="${ly + 12}">ceph-msgr (msgr v1, CRCs on)</text>`)
  out.push(`<rect x="${lx}" y="${ly + 20}" width="12" height="12" fill="${colors.raw}"/><text x="${lx + 18}" y="${ly + 30}">raw TCP, length-prefixed frames</text>`)
  out.push('</svg>')
  return out.join('\n') + '\n'
}
