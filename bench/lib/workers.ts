// The parent's side of a worker process: fork it, wait until it is ready, call it (request/reply
// over IPC), stop it.
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { benchModule, loaderArgs } from './paths.ts'
import type { Hello, Impl, Reply, Request, Role } from './proto.ts'

const WORKER = benchModule('lib/worker')

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never
export type Call = WithoutId<Request>

export interface WorkerOptions {
  /** --expose-gc, for the memory cases. */
  exposeGc?: boolean
  /** Write a V8 CPU profile of every case the worker runs into this directory (see worker.ts). */
  profileDir?: string
  /** Extra environment variables (e.g. glibc malloc tunables for --malloc-tuned). */
  env?: Record<string, string>
}

export class Worker {
  readonly role: Role
  readonly impl: Impl
  readonly label: string
  private readonly child: ChildProcess
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private exited = false

  private constructor (role: Role, impl: Impl, child: ChildProcess, label: string) {
    this.role = role
    this.impl = impl
    this.child = child
    this.label = label
    child.on('message', (m: Reply | Hello) => {
      if ('ready' in m) return
      const p = this.pending.get(m.id)
      if (p === undefined) return
      this.pending.delete(m.id)
      if (m.ok) p.resolve(m.value)
      else p.reject(new Error(`${this.label}: ${m.error}`))
    })
    child.on('exit', (code, signal) => {
      this.exited = true
      const err = new Error(`${this.label} exited (code ${code}, signal ${signal})`)
      for (const p of this.pending.values()) p.reject(err)
      this.pending.clear()
    })
  }

  get pid (): number {
    return this.child.pid ?? 0
  }

  static start (role: Role, impl: Impl, opts: WorkerOptions = {}): Promise<Worker> {
    const execArgv = [...loaderArgs]
    if (opts.exposeGc === true) execArgv.push('--expose-gc')
    // Extra V8/Node flags for the workers only, e.g. BENCH_NODE_FLAGS=--trace-gc (diagnostics).
    const extra = process.env.BENCH_NODE_FLAGS?.trim()
    if (extra !== undefined && extra !== '') execArgv.push(...extra.split(/\s+/))
    const env = { ...process.env, ...opts.env, ...(opts.profileDir !== undefined ? { BENCH_PROFILE_DIR: opts.profileDir } : {}) }
    const child = fork(WORKER, [role, impl], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const w = new Worker(role, impl, child, `${impl} ${role} (pid ${child.pid})`)
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => { reject(new Error(`${w.label} exited before it was ready (code ${code})`)) }
      child.once('exit', onExit)
      child.once('error', reject)
      const onMessage = (m: Reply | Hello): void => {
        if (!('ready' in m)) return
        child.off('message', onMessage)
        child.off('exit', onExit)
        child.off('error', reject)
        resolve(w)
      }
      child.on('message', onMessage)
    })
  }

  call<T> (req: Call, timeoutMs = 120_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.label} has exited`))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.label}: ${req.op} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v as T) },
        reject: (e) => { clearTimeout(timer); reject(e) }
      })
      this.child.send({ ...req, id })
    })
  }

  /** Ask it to exit; kill it (by its own pid) if it has not gone within a few seconds. */
  async stop (): Promise<void> {
    if (this.exited) return
    const gone = new Promise<void>((resolve) => { this.child.once('exit', () => { resolve() }) })
    this.call({ op: 'exit' }, 5000).catch(() => {})
    const timer = setTimeout(() => { this.child.kill('SIGKILL') }, 8000)
    await gone
    clearTimeout(timer)
  }
}
