// The package's root directory, from lib/cli/ (run by tsx) or from dist/lib/cli/ (the build).
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++) {
    dir = dirname(dir)
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'ceph-msgr.js'))) return dir
  }
  throw new Error(`ceph-msgr: no package root above ${fileURLToPath(import.meta.url)}`)
}

export const PACKAGE_ROOT = findRoot()
