#!/usr/bin/env node
// The ceph-msgr command. It runs the JavaScript built into dist/ (`npm run build`; the published
// package ships it). In a development checkout without a build it compiles lib/ on the fly with
// tsx, a devDependency, so an installed package never needs it. The build is what to run: a
// process that loaded its modules through tsx was measured running V8 full collections throughout
// large-message traffic (docs, Speed). Exit codes come back from main() (0 ok, 1 failure, 2 usage).
import { existsSync } from 'node:fs'
import { URL } from 'node:url'

const built = new URL('../dist/lib/cli/main.js', import.meta.url)
const source = new URL('../lib/cli/main.ts', import.meta.url)
let main
if (existsSync(built)) {
  ({ main } = await import(built.href))
} else {
  let register
  try {
    if (!existsSync(source)) throw new Error('no sources')
    ;({ register } = await import('tsx/esm/api'))
  } catch {
    process.stderr.write('ceph-msgr: dist/lib/cli/main.js is missing: run `npm run build` in the package directory\n')
    process.exit(1)
  }
  register()
  ;({ main } = await import(source.href))
}
process.exitCode = await main(process.argv.slice(2))
