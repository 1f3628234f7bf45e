// Is a real Ceph installed here? Interop specs use cephSkipReason() to skip when it is not, unless
// CEPH_MSGR_REQUIRE_CEPH=1 (CI) makes a missing Ceph an error instead of a silent skip.
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** The binaries the interop helpers run. */
export const CEPH_BINARIES = ['ceph-mon', 'monmaptool', 'ceph'] as const

export interface CephAvailability {
  ok: boolean
  reason?: string
}

/** Full path of an executable named `name` on PATH, or undefined. */
export function which (name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(d => d !== '')
  for (const dir of dirs) {
    const full = join(dir, name)
    try {
      accessSync(full, constants.X_OK)
      if (statSync(full).isFile()) return full
    } catch {
      // not here
    }
  }
  return undefined
}

let cached: CephAvailability | undefined

/** Whether ceph-mon, monmaptool and ceph are all on PATH (checked once per process). */
export function cephAvailable (): CephAvailability {
  if (cached !== undefined) return cached
  const missing = CEPH_BINARIES.filter(b => which(b) === undefined)
  cached = missing.length === 0
    ? { ok: true }
    : { ok: false, reason: `not on PATH: ${missing.join(', ')}` }
  return cached
}

/** True when the environment demands real Ceph (CEPH_MSGR_REQUIRE_CEPH=1). */
export function cephRequired (): boolean {
  return process.env.CEPH_MSGR_REQUIRE_CEPH === '1'
}

/**
 * For `test('x', { skip: cephSkipReason() }, ...)`: undefined when real Ceph is available, else a
 * reason to skip. Throws instead when CEPH_MSGR_REQUIRE_CEPH=1, so CI fails rather than skips.
 */
export function cephSkipReason (): string | undefined {
  const a = cephAvailable()
  if (a.ok) return undefined
  const detail = a.reason === undefined ? '' : ` (${a.reason})`
  if (cephRequired()) {
    throw new Error(`CEPH_MSGR_REQUIRE_CEPH=1 but real Ceph is not installed${detail}; ` +
      'apt-get install ceph-mon ceph-common')
  }
  return `real Ceph not installed${detail} (apt-get install ceph-mon ceph-common); ` +
    'set CEPH_MSGR_REQUIRE_CEPH=1 to make this a failure'
}
