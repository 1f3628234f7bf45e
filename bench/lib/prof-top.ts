// Top self-time functions of a V8 CPU profile (`node --cpu-prof`, or `npm run bench -- --profile DIR`).
//   node --import tsx bench/lib/prof-top.ts FILE.cpuprofile [--top N] [--filter SUBSTRING]
// --filter keeps only functions whose script URL contains SUBSTRING (e.g. /lib/); percentages stay
// relative to the whole profile. --inclusive ranks by total time (self + callees) instead.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface SelfTime {
  name: string
  where: string
  ms: number
  pct: number
}

function label (cf: CallFrame): { name: string, where: string } {
  const url = cf.url.replace(/^file:\/\//, '')
  const where = url === '' ? '' : `${url.replace(/^.*\/(lib|bench|node_modules)\//, '$1/')}:${cf.lineNumber + 1}`
  return { name: cf.functionName === '' ? '(anonymous)' : cf.functionName, where }
}

/** Time per function: self time, or with `inclusive` self + callees (each function once per sample). */
export function selfTimes (p: CpuProfile, inclusive = false): { total: number, rows: SelfTime[] } {
  const byNode = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const n of p.nodes) {
    byNode.set(n.id, n)
    for (const c of n.children ?? []) parent.set(c, n.id)
  }
  const acc = new Map<string, SelfTime>()
  let total = 0
  const add = (cf: CallFrame, dt: number, seen: Set<string> | undefined): void => {
    const { name, where } = label(cf)
    const key = `${name}@${where}`
    if (seen !== undefined) {
      if (seen.has(key)) return
      seen.add(key)
    }
    const row = acc.get(key) ?? { name, where, ms: 0, pct: 0 }
    row.ms += dt
    acc.set(key, row)
  }
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000
    total += dt
    let id: number | undefined = p.samples[i]
    if (!inclusive) {
      const n = byNode.get(id)
      if (n !== undefined) add(n.callFrame, dt, undefined)
      continue
    }
    const seen = new Set<string>()
    while (id !== undefined) {
      const n = byNode.get(id)
      if (n === undefined) break
      if (n.callFrame.functionName !== '(root)') add(n.callFrame, dt, seen)
      id = parent.get(id)
    }
  }
  const rows = [...acc.values()].sort((a, b) => b.ms - a.ms)
  for (const r of rows) r.pct = total === 0 ? 0 : 100 * r.ms / total
  return { total, rows }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, filter: { type: 'string' }, inclusive: { type: 'boolean', default: false } } })
  for (const file of positionals) {
    const { total, rows } = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, values.inclusive)
    const shown = rows.filter((r) => values.filter === undefined || r.where.includes(values.filter)).slice(0, Number(values.top))
    process.stdout.write(`${file}: ${total.toFixed(0)} ms sampled\n`)
    for (const r of shown) process.stdout.write(`${r.ms.toFixed(1).padStart(9)} ms ${r.pct.toFixed(1).padStart(5)}%  ${r.name}  ${r.where}\n`)
  }
}
