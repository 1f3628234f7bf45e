// A throwaway real ceph-mon on loopback (auth none, msgr v1 and optionally v2) for interop specs.
// Everything lives in one fresh temp directory on random free ports; nothing touches /etc/ceph,
// /var/lib/ceph or systemd. See /work/shared/protocol/real-ceph.md for the facts this rests on.
//
//   const mon = await startCephMon()
//   const r = await mon.ceph(['ping', 'mon.a'])   // the real CLI, forced onto msgr v1
//   await mon.stop()
//
// Mons still running when the process exits are SIGKILLed (and their directories removed) by a
// process 'exit' handler; SIGINT/SIGTERM/SIGHUP are covered too. Set CEPH_MSGR_KEEP_MON_DIR=1 to
// keep the directories (logs, conf) for debugging.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { closeSync, openSync, rmSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect, createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

export interface StartCephMonOptions {
  /** Mon id; the daemon is mon.NAME. Default 'a'. */
  name?: string
  /** debug_ms for the mon (1 logs every message, 20 every handshake step). Default: Ceph's. */
  debugMs?: number
  /** Also bind msgr v2 (the mon then has an addrvec [v2:..,v1:..]). Default true. */
  v2?: boolean
  /** How long to wait for the mon to become leader. Default 30 s. */
  readyTimeoutMs?: number
}

export interface CephRunOptions {
  /** Kill the CLI (SIGKILL) after this long; also sets --connect-timeout. Default 20 s. */
  timeoutMs?: number
  /** Talk msgr v2 (-m v2:...) instead of v1. Default false. Needs a mon started with v2. */
  v2?: boolean
  /** Written to the CLI's stdin. */
  input?: string
}

export interface RunResult {
  /** Exit code; null when killed by a signal (see signal / timedOut). */
  code: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
  stdout: string
  stderr: string
}

/** The part of the mon's `mon_status` the helpers look at; the rest is kept as is. */
export interface MonStatus {
  name: string
  rank: number
  /** 'probing', 'electing', 'leader', ... */
  state: string
  quorum: number[]
  [key: string]: unknown
}

export interface CephMon {
  name: string
  v1Port: number
  /** null when started with v2: false */
  v2Port: number | null
  /** 'v1:127.0.0.1:PORT' */
  v1Addr: string
  /** 'v2:127.0.0.1:PORT', or null */
  v2Addr: string | null
  fsid: string
  dir: string
  /** The mon's conf. */
  confPath: string
  /** A minimal client conf: mon_host = v1 address only, auth none. */
  clientConfPath: string
  /** The mon's log file (log_file). */
  logPath: string
  /** The mon's admin socket. */
  asokPath: string
  /** pid of the current ceph-mon process (changes on restart). */
  readonly pid: number
  /** Whether the current ceph-mon process is still running. */
  readonly running: boolean
  /** Milliseconds from spawning ceph-mon to it being leader, for the latest (re)start. */
  readonly readyMs: number
  /** SIGTERM, wait for exit (SIGKILL after 5 s), remove the directory. Idempotent. */
  stop (): Promise<void>
  /** Stop the process (keeping the directory) and start it again on the same ports and data. */
  restart (): Promise<void>
  /** Run the real `ceph` CLI: `ceph -c CLIENTCONF -m v1:127.0.0.1:PORT --connect-timeout S ...args`. */
  ceph (args: string[], opts?: CephRunOptions): Promise<RunResult>
  /** `mon_status` over the admin socket (no network, no Python). */
  monStatus (): Promise<MonStatus>
}

const LOOPBACK = '127.0.0.1'
const STOP_GRACE_MS = 5000

// ---- free ports -------------------------------------------------------------------------------

function listenOnZero (): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen({ port: 0, host: LOOPBACK, exclusive: true }, () => resolve(srv))
  })
}

function closeServer (srv: Server): Promise<void> {
  return new Promise(resolve => srv.close(() => resolve()))
}

function serverPort (srv: Server): number {
  const a = srv.address()
  if (a === null || typeof a === 'string') throw new Error('server has no TCP address')
  return a.port
}

/** `count` distinct TCP ports that were free on 127.0.0.1 a moment ago. */
export async function freePorts (count: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    // Hold all of them open at once so that they are distinct.
    for (let i = 0; i < count; i++) servers.push(await listenOnZero())
    return servers.map(serverPort)
  } finally {
    await Promise.all(servers.map(closeServer))
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort (): Promise<number> {
  const [port] = await freePorts(1)
  return port
}

// ---- processes --------------------------------------------------------------------------------

/** Run a command to completion, collecting its output; SIGKILL after timeoutMs. Never rejects
 * for a non-zero exit (only when the command cannot be started). */
export function run (cmd: string, args: string[], opts: { timeoutMs?: number, cwd?: string, input?: string } = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 30000
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.once('error', e => {
      clearTimeout(timer)
      reject(e)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8')
      })
    })
    child.stdin.on('error', () => { /* the command may not read its stdin */ })
    child.stdin.end(opts.input ?? '')
  })
}

async function runOk (cmd: string, args: string[], cwd: string): Promise<RunResult> {
  const r = await run(cmd, args, { cwd })
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (code ${r.code}, signal ${r.signal}` +
      `${r.timedOut ? ', timed out' : ''}):\n${r.stdout}${r.stderr}`)
  }
  return r
}

// Every ceph-mon this module started and has not yet seen exit, with its directory.
const live = new Map<ChildProcess, string>()
let hooksInstalled = false

function keepDirs (): boolean {
  return process.env.CEPH_MSGR_KEEP_MON_DIR === '1'
}

function killAllNow (): void {
  for (const [child, dir] of live) {
    try {
      child.kill('SIGKILL')
    } catch {
      // already gone
    }
    if (!keepDirs()) {
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
      } catch {
        // best effort: the dying mon may still hold files open
      }
    }
  }
  live.clear()
}

function onSignal (signal: NodeJS.Signals): void {
  killAllNow()
  // When nobody else handles the signal, behave as if we had not been listening: die of it.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal)
    process.kill(process.pid, signal)
  }
}

function installHooks (): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', killAllNow)
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal)
}

interface Exit { code: number | null, signal: NodeJS.Signals | null }

interface Spawned {
  child: ChildProcess
  exited: Promise<Exit>
  /** Set once the process has exited. */
  exit?: Exit
}

// ---- admin socket and readiness ---------------------------------------------------------------

/** Send one command to a Ceph admin socket; resolves with the reply text. The protocol: the
 * command's JSON and a NUL byte; the reply is a big-endian u32 length and that many bytes. */
export function adminSocketCommand (path: string, command: Record<string, unknown>, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(path)
    const chunks: Buffer[] = []
    let total = 0
    let done = false
    const finish = (e: Error | undefined, text?: string): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      sock.destroy()
      if (e !== undefined) reject(e)
      else resolve(text ?? '')
    }
    const timer = setTimeout(() => finish(new Error(`admin socket ${path}: no reply in ${timeoutMs} ms`)), timeoutMs)
    sock.once('connect', () => sock.write(JSON.stringify(command) + '\0'))
    sock.on('data', (b: Buffer) => {
      chunks.push(b)
      total += b.length
      if (total < 4) return
      const buf = Buffer.concat(chunks)
      const len = buf.readUInt32BE(0)
      if (buf.length >= 4 + len) finish(undefined, buf.subarray(4, 4 + len).toString('utf8'))
    })
    sock.once('error', e => finish(e))
    sock.once('close', () => finish(new Error(`admin socket ${path}: closed before a full reply`)))
  })
}

function parseMonStatus (text: string): MonStatus {
  const v: unknown = JSON.parse(text)
  if (typeof v !== 'object' || v === null) throw new Error(`mon_status is not an object: ${text}`)
  const o = v as Record<string, unknown>
  if (typeof o.state !== 'string' || typeof o.name !== 'string') {
    throw new Error(`mon_status without name/state: ${text.slice(0, 500)}`)
  }
  return {
    ...o,
    name: o.name,
    rank: typeof o.rank === 'number' ? o.rank : -1,
    state: o.state,
    quorum: Array.isArray(o.quorum) ? o.quorum.filter((x): x is number => typeof x === 'number') : []
  }
}

/** Resolves true when a TCP connection to 127.0.0.1:port succeeds (and closes it at once). */
function tcpProbe (port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise(resolve => {
    const sock = connect({ host: LOOPBACK, port })
    const finish = (ok: boolean): void => {
      clearTimeout(timer)
      sock.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => finish(false), timeoutMs)
    sock.once('connect', () => finish(true))
    sock.once('error', () => finish(false))
  })
}

async function tail (path: string, bytes = 4000): Promise<string> {
  try {
    const text = await readFile(path, 'utf8')
    return text.slice(-bytes)
  } catch {
    return '(unreadable)'
  }
}

// ---- the mon ----------------------------------------------------------------------------------

function monConf (p: {
  fsid: string, name: string, dir: string, v1Port: number, v2Port: number | null, debugMs?: number
}): string {
  const d = p.dir
  const monHost = p.v2Port === null
    ? `[v1:${LOOPBACK}:${p.v1Port}]`
    : `[v2:${LOOPBACK}:${p.v2Port},v1:${LOOPBACK}:${p.v1Port}]`
  const lines = [
    '# throwaway single mon on loopback, no authentication (spec/support/ceph-mon.ts)',
    '[global]',
    `fsid = ${p.fsid}`,
    `mon_initial_members = ${p.name}`,
    `mon_host = ${monHost}`,
    `public_addr = ${LOOPBACK}`,
    'ms_bind_msgr1 = true',
    `ms_bind_msgr2 = ${p.v2Port === null ? 'false' : 'true'}`,
    'ms_bind_ipv6 = false',
    'auth_cluster_required = none',
    'auth_service_required = none',
    'auth_client_required = none',
    'auth_allow_insecure_global_id_reclaim = true',
    'mon_data_avail_warn = 1',
    'mon_data_avail_crit = 0',
    ...(p.v2Port === null ? ['mon_warn_on_msgr2_not_enabled = false'] : []),
    `mon_data = ${d}/mon/$cluster-$id`,
    `run_dir = ${d}/run`,
    `admin_socket = ${d}/run/$cluster-$name.asok`,
    `pid_file = ${d}/run/$cluster-$name.pid`,
    `log_file = ${d}/log/$cluster-$name.log`,
    `mon_cluster_log_file = ${d}/log/$cluster.log`,
    `crash_dir = ${d}/crash`,
    `keyring = ${d}/keyring`
  ]
  if (p.debugMs !== undefined) lines.push('', '[mon]', `debug_ms = ${p.debugMs}`)
  return lines.join('\n') + '\n'
}

function clientConf (p: { fsid: string, v1Port: number }): string {
  return [
    '# minimal client conf: msgr v1 only, no authentication (spec/support/ceph-mon.ts)',
    '[global]',
    `fsid = ${p.fsid}`,
    `mon_host = v1:${LOOPBACK}:${p.v1Port}`,
    'auth_cluster_required = none',
    'auth_service_required = none',
    'auth_client_required = none'
  ].join('\n') + '\n'
}

class RunningMon implements CephMon {
  readonly name: string
  readonly v1Port: number
  readonly v2Port: number | null
  readonly v1Addr: string
  readonly v2Addr: string | null
  readonly fsid: string
  readonly dir: string
  readonly confPath: string
  readonly clientConfPath: string
  readonly logPath: string
  readonly asokPath: string
  private readonly stdioPath: string
  private readonly readyTimeoutMs: number
  private proc: Spawned | undefined
  private lastReadyMs = 0
  private stopped = false

  constructor (p: {
    name: string, v1Port: number, v2Port: number | null, fsid: string, dir: string, readyTimeoutMs: number
  }) {
    this.name = p.name
    this.v1Port = p.v1Port
    this.v2Port = p.v2Port
    this.v1Addr = `v1:${LOOPBACK}:${p.v1Port}`
    this.v2Addr = p.v2Port === null ? null : `v2:${LOOPBACK}:${p.v2Port}`
    this.fsid = p.fsid
    this.dir = p.dir
    this.confPath = join(p.dir, 'ceph.conf')
    this.clientConfPath = join(p.dir, 'client.conf')
    this.logPath = join(p.dir, 'log', `ceph-mon.${p.name}.log`)
    this.asokPath = join(p.dir, 'run', `ceph-mon.${p.name}.asok`)
    this.stdioPath = join(p.dir, 'log', 'ceph-mon.stdio.log')
    this.readyTimeoutMs = p.readyTimeoutMs
  }

  get pid (): number {
    return this.proc?.child.pid ?? -1
  }

  get running (): boolean {
    return this.proc !== undefined && this.proc.exit === undefined
  }

  get readyMs (): number {
    return this.lastReadyMs
  }

  /** Spawn `ceph-mon -f` and wait until it listens on the v1 port and is leader. */
  async launch (): Promise<void> {
    installHooks()
    const fd = openSync(this.stdioPath, 'a')
    let child: ChildProcess
    try {
      child = spawn('ceph-mon', ['-c', this.confPath, '-i', this.name, '-f'], {
        cwd: this.dir,
        stdio: ['ignore', fd, fd]
      })
    } finally {
      closeSync(fd)
    }
    const started = performance.now()
    const spawned: Spawned = {
      child,
      exited: new Promise<Exit>(resolve => {
        child.once('exit', (code, signal) => {
          spawned.exit = { code, signal }
          live.delete(child)
          resolve(spawned.exit)
        })
        child.once('error', e => {
          spawned.exit = { code: null, signal: null }
          live.delete(child)
          process.stderr.write(`ceph-mon: ${e.message}\n`)
          resolve(spawned.exit)
        })
      })
    }
    // Do not hold the event loop open for it: a forgotten mon must not hang the test process (the
    // 'exit' hook kills it).
    child.unref()
    this.proc = spawned
    live.set(child, this.dir)
    try {
      await this.waitReady(spawned)
    } catch (e) {
      await this.terminate()
      throw e
    }
    this.lastReadyMs = performance.now() - started
  }

  private async waitReady (spawned: Spawned): Promise<void> {
    const deadline = performance.now() + this.readyTimeoutMs
    let last = 'not listening yet'
    while (true) {
      if (spawned.exit !== undefined) {
        throw new Error(`ceph-mon.${this.name} exited during startup (code ${spawned.exit.code}, ` +
          `signal ${spawned.exit.signal})\n--- stdio ---\n${await tail(this.stdioPath)}\n` +
          `--- ${this.logPath} ---\n${await tail(this.logPath)}`)
      }
      if (performance.now() > deadline) {
        throw new Error(`ceph-mon.${this.name} not leader after ${this.readyTimeoutMs} ms (${last})\n` +
          `--- ${this.logPath} ---\n${await tail(this.logPath)}`)
      }
      if (await tcpProbe(this.v1Port)) {
        try {
          const st = await this.monStatus()
          if (st.state === 'leader') return
          last = `state ${st.state}`
        } catch (e) {
          last = `admin socket: ${(e as Error).message}`
        }
      }
      await sleep(20)
    }
  }

  /** SIGTERM the current process and wait for it; SIGKILL after STOP_GRACE_MS. */
  private async terminate (): Promise<void> {
    const p = this.proc
    if (p === undefined || p.exit !== undefined) return
    p.child.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const gone = await Promise.race([
      p.exited.then(() => true),
      new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(false), STOP_GRACE_MS) })
    ])
    clearTimeout(timer)
    if (!gone) {
      p.child.kill('SIGKILL')
      await p.exited
    }
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.terminate()
    if (!keepDirs()) await rm(this.dir, { recursive: true, force: true, maxRetries: 3 })
  }

  async restart (): Promise<void> {
    if (this.stopped) throw new Error('restart() after stop()')
    await this.terminate()
    await this.launch()
  }

  ceph (args: string[], opts: CephRunOptions = {}): Promise<RunResult> {
    const timeoutMs = opts.timeoutMs ?? 20000
    let addr = this.v1Addr
    if (opts.v2 === true) {
      if (this.v2Addr === null) throw new Error('this mon was started without msgr v2')
      addr = this.v2Addr
    }
    const connectTimeout = String(Math.max(1, Math.ceil(timeoutMs / 1000)))
    return run('ceph', ['-c', this.clientConfPath, '-m', addr, '--connect-timeout', connectTimeout, ...args], {
      timeoutMs: timeoutMs + 2000,
      cwd: this.dir,
      input: opts.input
    })
  }

  async monStatus (): Promise<MonStatus> {
    return parseMonStatus(await adminSocketCommand(this.asokPath, { prefix: 'mon_status' }))
  }
}

/**
 * Create and start a single-mon cluster in a fresh temp directory on random free ports, and wait
 * until the mon is leader of its one-mon quorum. Always `await mon.stop()` (e.g. in `after`).
 */
export async function startCephMon (opts: StartCephMonOptions = {}): Promise<CephMon> {
  const name = opts.name ?? 'a'
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`bad mon name ${JSON.stringify(name)}`)
  const v2 = opts.v2 ?? true
  const dir = await mkdtemp(join(tmpdir(), 'ceph-msgr-mon-'))
  try {
    for (const sub of ['mon', 'run', 'log', 'crash']) await mkdir(join(dir, sub))
    const ports = await freePorts(v2 ? 2 : 1)
    const v1Port = ports[0]
    const v2Port = v2 ? ports[1] : null
    const fsid = randomUUID()
    const mon = new RunningMon({ name, v1Port, v2Port, fsid, dir, readyTimeoutMs: opts.readyTimeoutMs ?? 30000 })
    await writeFile(mon.confPath, monConf({ fsid, name, dir, v1Port, v2Port, debugMs: opts.debugMs }))
    await writeFile(mon.clientConfPath, clientConf({ fsid, v1Port }))
    const addrvec = v2Port === null
      ? `[v1:${LOOPBACK}:${v1Port}]`
      : `[v2:${LOOPBACK}:${v2Port},v1:${LOOPBACK}:${v1Port}]`
    const monmap = join(dir, 'monmap')
    await runOk('monmaptool', ['--create', '--fsid', fsid, '--addv', name, addrvec, monmap], dir)
    await runOk('ceph-mon', ['-c', mon.confPath, '--mkfs', '-i', name, '--monmap', monmap], dir)
    await mon.launch()
    return mon
  } catch (e) {
    if (!keepDirs()) await rm(dir, { recursive: true, force: true, maxRetries: 3 })
    throw e
  }
}
