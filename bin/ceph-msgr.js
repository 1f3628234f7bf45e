#!/usr/bin/env node
// The ceph-msgr command. It runs the JavaScript that `npm install` builds into dist/ (`npm run
// build`); without a build it compiles lib/ on the fly with tsx. The build is what to run: a
// process that loaded its modules through tsx was measured running V8 full collections throughout
// large-message traffic (README, Speed). Exit codes come back from main() (0 ok, 1 failure, 2 usage).
import { existsSync } from 'node:fs'
import { URL } from 'node:url'

const built = new URL('../dist/lib/cli/main.js', import.meta.url)
let main
if (existsSync(built)) {
  ({ main } = await import(built.href))
} else {
  const { register } = await import('tsx/esm/api')
  register()
  ;({ main } = await import('../lib/cli/main.ts'))
}
process.exitCode = await main(process.argv.slice(2))
