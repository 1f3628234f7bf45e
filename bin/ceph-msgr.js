#!/usr/bin/env node
// The ceph-msgr command. The project ships TypeScript only: tsx compiles lib/ on the fly, so
// there is no build step. Exit codes come back from main() (0 ok, 1 failure, 2 usage).
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../lib/cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
