// Where the bench runs from: bench/ under tsx, or dist/bench/ as built JavaScript (`npm run
// bench` builds first and runs that, as ceph-msgr users run the built library). Results always
// go to the source tree's bench/results/.
import { basename, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const BENCH = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** True when this is the built JavaScript under dist/. */
export const compiled = basename(resolve(BENCH, '..')) === 'dist'

/** bench/results/ of the source tree. */
export const RESULTS_DIR = compiled ? resolve(BENCH, '../../bench/results') : resolve(BENCH, 'results')

/** A bench module as it exists in this form: `name.ts` under tsx, `name.js` when built. */
export function benchModule (name: string): string {
  return resolve(BENCH, compiled ? `${name}.js` : `${name}.ts`)
}

/** Node flags a bench child process needs to load bench modules in this form. */
export const loaderArgs: string[] = compiled ? [] : ['--import', 'tsx']
