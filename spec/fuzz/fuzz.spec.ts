// A short fuzz run on every `npm test` (the long one is `npm run fuzz`), and every crash input
// ever found, kept as a regression test.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { crashDir, fuzz, prng, runOne, seeds } from './fuzz.ts'

test('20 000 mutated inputs: nothing but typed ProtocolErrors', () => {
  const res = fuzz(20_000, 20261125)
  assert.deepEqual(res.crashes, [])
  assert.ok(res.errors > 1000, 'the mutations do reach the error paths')
  assert.ok(res.ok > 100, 'and some inputs still decode')
})

test('saved crash inputs no longer crash', () => {
  let files: string[] = []
  try { files = readdirSync(crashDir).filter((f) => f.endsWith('.bin')) } catch { files = [] }
  const all = seeds()
  for (const f of files) {
    const meta = JSON.parse(readFileSync(new URL(f.replace(/\.bin$/, '.json'), crashDir), 'utf8')) as { seed: string }
    const seed = all.find((s) => s.name === meta.seed) ?? all[0]
    const out = runOne(seed, new Uint8Array(readFileSync(new URL(f, crashDir))), prng(1))
    assert.notEqual(out.outcome, 'crash', `${f}: ${String(out.error)}`)
  }
})
