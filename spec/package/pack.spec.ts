// The package as a user gets it: `npm pack`, install the tarball into an empty project, import
// both entry points, run the README's library example, and run the CLI (`--help`, and `ping`
// against a mon started from the installed package). Nothing here reads the checkout's lib/: the
// temp project sees only what the tarball carries, so a file missing from `files` fails here.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

interface Ran { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

/** The environment without the npm_* variables of an enclosing `npm test` (its prefix, its lifecycle). */
function cleanEnv (): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_')) env[k] = v
  return env
}

/** Run a command to completion (killed at `timeoutMs`: a hung example is a failure, not a hang). */
function run (cmd: string, args: string[], cwd: string, timeoutMs = 30_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
    child.on('error', reject)
    child.on('close', (code, signal) => { resolve({ code, signal, stdout, stderr }) })
  })
}

function show (r: Ran): string {
  return `exit ${String(r.code)}${r.signal !== null ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`
}

function newestMtime (dir: string, ext: string): number {
  let newest = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, ext))
    else if (e.name.endsWith(ext)) newest = Math.max(newest, statSync(p).mtimeMs)
  }
  return newest
}

/** The README's library example: the ```ts block after the `<!-- readme-example -->` marker. */
function readmeExample (): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const m = /<!-- readme-example -->\s*```ts\n([\s\S]*?)```/.exec(readme)
  assert.ok(m !== null, 'README.md has no ```ts block after <!-- readme-example -->')
  return m[1]
}

describe('npm pack, installed into an empty project', { timeout: 120_000 }, () => {
  let work: string
  let project: string
  let packed: string[]
  let installLog: string

  before(async () => {
    // `npm test` has just built dist/; a spec run alone rebuilds it when lib/ is newer. Errors
    // elsewhere in the tree must not hide the build: tsc emits anyway, the files are checked below.
    const built = join(ROOT, 'dist', 'lib', 'index.js')
    if (!existsSync(built) || newestMtime(join(ROOT, 'lib'), '.ts') > statSync(built).mtimeMs) {
      await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], ROOT, 120_000)
    }
    for (const f of ['index.js', 'index.d.ts', 'mon/index.js', 'mon/index.d.ts', 'cli/main.js']) {
      assert.ok(existsSync(join(ROOT, 'dist', 'lib', f)), `dist/lib/${f} was not built`)
    }
    work = await mkdtemp(join(tmpdir(), 'ceph-msgr-pack-'))
    // --ignore-scripts: the build above is the one to pack (prepare would build again).
    const pack = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT, 60_000)
    assert.equal(pack.code, 0, show(pack))
    const info = (JSON.parse(pack.stdout) as Array<{ filename: string, files: Array<{ path: string }> }>)[0]
    packed = info.files.map((f) => f.path)
    const tarball = join(work, info.filename)

    project = join(work, 'project')
    await run('mkdir', [project], work)
    // allowScripts: npm 11 asks a project to approve a dependency's install script (our native
    // crc32c build); a tarball's identity is its file: URL.
    await writeFile(join(project, 'package.json'), JSON.stringify({
      name: 'ceph-msgr-pack-test', private: true, type: 'module', allowScripts: { [`file:${tarball}`]: true }
    }, null, 2))
    // The dependencies come from the local npm cache when it has them (it does after `npm ci`).
    const args = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball]
    let install = await run(NPM, args, project, 90_000)
    if (install.code !== 0) install = await run(NPM, args.map((a) => a === '--prefer-offline' ? '--offline' : a), project, 90_000)
    assert.equal(install.code, 0, show(install))
    installLog = install.stdout + install.stderr
  })

  after(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true })
  })

  test('the tarball carries the build, its types, bin, the native source and its build, README and LICENSE, and nothing else', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'bin/ceph-msgr.js', 'binding.gyp', 'native/crc32c.c', 'native/build.mjs',
      'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/mon/index.js', 'dist/lib/mon/index.d.ts', 'dist/lib/cli/main.js', 'dist/lib/wire/crc32c.js']) {
      assert.ok(packed.includes(f), `${f} is not in the tarball`)
    }
    const allowed = /^(package\.json|README\.md|LICENSE|binding\.gyp|bin\/[^/]+\.js|native\/(crc32c\.c|build\.mjs)|dist\/lib\/.+\.(js|d\.ts))$/
    const extra = packed.filter((f) => !allowed.test(f))
    assert.deepEqual(extra, [], `unexpected files in the tarball: ${extra.join(', ')}`)
  })

  test('the installed package has no tsx and built its native crc32c where this machine can', () => {
    const pkg = join(project, 'node_modules', 'ceph-msgr')
    assert.ok(existsSync(join(pkg, 'dist', 'lib', 'index.js')))
    assert.ok(!existsSync(join(project, 'node_modules', 'tsx')), 'tsx was installed: it must be a devDependency')
    assert.match(installLog, /ceph-msgr: (native crc32c built|.*using @node-rs\/crc32)/, 'the install script did not run')
    // The checkout built it too (npm ci): then this machine has a compiler, and so must the install.
    if (existsSync(join(ROOT, 'build', 'Release', 'crc32c.node'))) {
      assert.ok(existsSync(join(pkg, 'build', 'Release', 'crc32c.node')), `no native build in the installed package:\n${installLog}`)
    }
  })

  test('import ceph-msgr and ceph-msgr/mon: the library without the monitor, the monitor on its own entry point', async () => {
    const probe = join(project, 'probe.mjs')
    await writeFile(probe, `
import * as lib from 'ceph-msgr'
import * as mon from 'ceph-msgr/mon'
import { main } from 'ceph-msgr/cli'
import { createRequire } from 'node:module'
let internal = 'importable'
try { await import('ceph-msgr/dist/lib/index.js') } catch (e) { internal = e.code }
console.log(JSON.stringify({
  lib: ['Messenger', 'MPing', 'MsgType', 'Policy', 'EntityType', 'negotiationMAuth'].filter((k) => k in lib),
  libHasMonitor: 'Monitor' in lib,
  mon: ['Monitor', 'MonPingClient', 'PingError', 'parsePong', 'serveMetrics'].filter((k) => k in mon),
  cli: typeof main,
  crc32c: lib.crc32cImplementation,
  types: createRequire(import.meta.url)('ceph-msgr/package.json').types,
  internal
}))
`)
    const r = await run(process.execPath, [probe], project)
    assert.equal(r.code, 0, show(r))
    const got = JSON.parse(r.stdout) as Record<string, unknown>
    assert.deepEqual(got.lib, ['Messenger', 'MPing', 'MsgType', 'Policy', 'EntityType', 'negotiationMAuth'])
    assert.equal(got.libHasMonitor, false)
    assert.deepEqual(got.mon, ['Monitor', 'MonPingClient', 'PingError', 'parsePong', 'serveMetrics'])
    assert.equal(got.cli, 'function')
    assert.equal(got.types, './dist/lib/index.d.ts')
    assert.equal(got.internal, 'ERR_PACKAGE_PATH_NOT_EXPORTED')
    if (existsSync(join(project, 'node_modules', 'ceph-msgr', 'build', 'Release', 'crc32c.node'))) assert.equal(got.crc32c, 'native')
  })

  test("the README's library example type-checks against the installed types, runs, prints the pong and exits by itself", async () => {
    const source = readmeExample()
    await writeFile(join(project, 'example.ts'), source)
    const tsc = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict',
      '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck',
      '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'example.ts'], project)
    assert.equal(tsc.code, 0, `the README example does not type-check against the package's types:\n${show(tsc)}`)
    const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText
    await writeFile(join(project, 'example.mjs'), js)
    const started = Date.now()
    const r = await run(process.execPath, ['example.mjs'], project, 20_000)
    assert.equal(r.code, 0, `the README example failed or did not exit within 20 s:\n${show(r)}`)
    const pong = JSON.parse(r.stdout) as { mon_status?: { name?: string } }
    assert.equal(pong.mon_status?.name, 'a')
    assert.ok(Date.now() - started < 15_000, 'the example took too long to exit')
  })

  test('the CLI from the installed package: npx ceph-msgr --help, and ping against an installed mon', async () => {
    const help = await run('npx', ['--offline', '--no-install', 'ceph-msgr', '--help'], project)
    assert.equal(help.code, 0, show(help))
    assert.match(help.stdout, /^usage: ceph-msgr <command>/)
    for (const c of ['mon', 'ping', 'decode', 'stress']) assert.match(help.stdout, new RegExp(`^  ${c} `, 'm'))

    const bin = join(project, 'node_modules', '.bin', 'ceph-msgr')
    const mon: ChildProcess = spawn(bin, ['mon', '--addr', 'v1:127.0.0.1:0'], { cwd: project, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      const addr = await new Promise<string>((resolve, reject) => {
        let out = ''
        let err = ''
        const t = setTimeout(() => { reject(new Error(`no "listening" line in 15 s:\n${out}\n${err}`)) }, 15_000)
        mon.stderr?.setEncoding('utf8').on('data', (s: string) => { err += s })
        mon.stdout?.setEncoding('utf8').on('data', (s: string) => {
          out += s
          const m = / listening on (v1:\S+?)\/\d+$/m.exec(out)
          if (m !== null) { clearTimeout(t); resolve(m[1]) }
        })
        mon.on('exit', (code) => { clearTimeout(t); reject(new Error(`mon exited ${String(code)}:\n${out}\n${err}`)) })
      })
      const ping = await run('npx', ['--offline', '--no-install', 'ceph-msgr', 'ping', addr, '--json'], project)
      assert.equal(ping.code, 0, show(ping))
      const pong = JSON.parse(ping.stdout) as { mon_status?: { name?: string } }
      assert.equal(pong.mon_status?.name, 'a')
    } finally {
      const exited = new Promise<number | null>((resolve) => {
        if (mon.exitCode !== null) resolve(mon.exitCode)
        else mon.once('exit', (code) => { resolve(code) })
      })
      mon.kill('SIGTERM')
      assert.equal(await exited, 0, 'the mon did not shut down cleanly on SIGTERM')
    }
  })
})
