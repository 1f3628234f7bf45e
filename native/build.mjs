// `npm install` / `npm ci` step: build the native crc32c (native/crc32c.c) with node-gyp.
// Optional by design: where it cannot be built (no compiler, no Node headers, another CPU) the
// install still succeeds and lib/wire/crc32c.ts falls back to @node-rs/crc32. Set
// CEPH_MSGR_NO_NATIVE=1 to skip the build.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

function nodeGyp () {
  // npm passes the node-gyp it bundles to lifecycle scripts; outside npm, look beside npm.
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
  ]
  return candidates.find((p) => p !== undefined && p !== '' && existsSync(p))
}

if (process.env.CEPH_MSGR_NO_NATIVE === '1') {
  console.log('ceph-msgr: CEPH_MSGR_NO_NATIVE=1, native crc32c not built (using @node-rs/crc32)')
  process.exit(0)
}
const gyp = nodeGyp()
if (gyp === undefined) {
  console.log('ceph-msgr: node-gyp not found, native crc32c not built (using @node-rs/crc32)')
  process.exit(0)
}
// Build against the headers of the Node that runs us when they are installed beside it (npm
// passes its own nodedir setting through the environment): node-gyp would otherwise download them.
const args = [gyp, 'rebuild']
const prefix = join(dirname(process.execPath), '..')
if ((process.env.npm_config_nodedir ?? '') === '' && existsSync(join(prefix, 'include', 'node', 'common.gypi'))) args.push(`--nodedir=${prefix}`)
const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
if (r.status === 0) {
  console.log('ceph-msgr: native crc32c built (build/Release/crc32c.node)')
} else {
  console.log(`ceph-msgr: native crc32c build failed, using @node-rs/crc32 instead\n${(r.stderr ?? '').split('\n').slice(-12).join('\n')}`)
}
