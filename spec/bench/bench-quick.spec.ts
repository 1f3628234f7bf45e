// `npm run bench -- --quick` runs end to end (separate client and server processes, every case)
// and writes JSON with every case name and finite numbers. A benchmark, not a test of speed:
// nothing here looks at how fast anything was. Cases that cannot run here (no real Ceph) may be
// null with a note saying why they were skipped.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const BUILT_RUNNER = join(ROOT, 'dist', 'bench', 'run.js')

const CASES = [
  'oneway-64B', 'oneway-4KiB', 'oneway-64KiB', 'oneway-1MiB', 'oneway-4KiB-queued', 'oneway-4KiB-queued-async',
  'rtt-p50', 'rtt-p99',
  'connect-ping', 'connect-ping-vs-librados', 'mon-vs-ceph-mon',
  'fanin-100',
  'idle-conn-rss', 'flood-peak-rss'
]

/** Cases that may be skipped (null, with a note starting with "skipped") on a machine without them. */
const OPTIONAL = new Set(['connect-ping-vs-librados', 'mon-vs-ceph-mon'])

interface Case {
  name: string
  unit: string
  ours: number | null
  baseline: number | null
  baseline_name: string
  ratio: number | null
  note?: string
}

function run (args: string[], timeoutMs: number): Promise<{ code: number | null, signal: NodeJS.Signals | null, out: string }> {
  return new Promise((resolve, reject) => {
    // What `npm run bench` runs: the built JavaScript (npm test builds before the specs).
    const child = spawn(process.execPath, [BUILT_RUNNER, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (b: Buffer) => { out += b.toString() })
    child.stderr.on('data', (b: Buffer) => { out += b.toString() })
    // Kill only this child (its workers exit when their IPC channel closes).
    const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, out })
    })
  })
}

test('bench --quick produces every case with finite numbers', { timeout: 120_000 }, async (t) => {
  assert.ok(existsSync(BUILT_RUNNER), `${BUILT_RUNNER} is missing: run \`npm run build\` (npm install and npm test do)`)
  const dir = await mkdtemp(join(tmpdir(), 'ceph-msgr-bench-'))
  try {
    const file = join(dir, 'quick.json')
    const r = await run(['--quick', '--no-save', '--json', file], 90_000)
    assert.equal(r.code, 0, `bench --quick failed (code ${r.code}, signal ${r.signal}):\n${r.out.slice(-4000)}`)
    const doc = JSON.parse(await readFile(file, 'utf8')) as { node: unknown, cpu: unknown, cases: Case[] }
    assert.equal(typeof doc.node, 'string')
    assert.equal(typeof doc.cpu, 'string')
    assert.ok(Array.isArray(doc.cases))
    const names = doc.cases.map((c) => c.name)
    for (const name of CASES) assert.ok(names.includes(name), `case ${name} missing (got ${names.join(', ')})`)
    for (const c of doc.cases) {
      assert.equal(typeof c.unit, 'string', `${c.name}: unit`)
      assert.equal(typeof c.baseline_name, 'string', `${c.name}: baseline_name`)
      if (c.ours === null && OPTIONAL.has(c.name) && /^skipped/.test(c.note ?? '')) {
        t.diagnostic(`${c.name}: ${c.note}`)
        continue
      }
      for (const k of ['ours', 'baseline', 'ratio'] as const) {
        const v = c[k]
        assert.ok(typeof v === 'number' && Number.isFinite(v), `${c.name}: ${k} = ${String(v)}${c.note !== undefined ? ` (${c.note})` : ''}`)
      }
      t.diagnostic(`${c.name}: ours ${c.ours} ${c.unit}, ${c.baseline_name} ${c.baseline}, ratio ${c.ratio?.toFixed(3)}`)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
