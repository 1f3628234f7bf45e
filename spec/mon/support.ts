// Shared bits of the mon specs: a raw client that records what it receives, an in-memory Io for
// the CLI commands, and a spawned `ceph-msgr` process.
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { EntityType, Messenger, Policy } from '../../lib/index.ts'
import type { Connection, Message } from '../../lib/index.ts'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const BIN = fileURLToPath(new URL('../../bin/ceph-msgr.js', import.meta.url))

/** A lossy client whose dispatcher keeps every message, with a way to await the next of a type. */
export class RawClient {
  readonly messenger: Messenger
  readonly received: Message[] = []
  private waiters: Array<{ type: number, resolve: (m: Message) => void }> = []

  constructor (type: 'tcp' | 'memory', features?: bigint) {
    this.messenger = Messenger.create({
      type,
      name: 'client.?',
      policy: Policy.lossyClient(features === undefined ? {} : { featuresSupported: features, featuresRequired: 0n })
    })
    this.messenger.addDispatcherTail({
      msDispatch: (m) => {
        this.received.push(m)
        const i = this.waiters.findIndex((w) => w.type === m.type)
        if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m)
        return true
      }
    })
    this.messenger.start()
  }

  connect (addr: string): Connection {
    return this.messenger.connectTo(EntityType.MON, addr)
  }

  /** The next message of `type` not yet taken (or one that already came). */
  next (type: number, timeoutMs = 5000): Promise<Message> {
    const i = this.received.findIndex((m) => m.type === type)
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0])
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { reject(new Error(`no message of type ${type} within ${timeoutMs} ms`)) }, timeoutMs)
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(t)
          this.received.splice(this.received.indexOf(m), 1)
          resolve(m)
        }
      })
    })
  }

  close (): Promise<void> {
    return this.messenger.shutdown(200)
  }
}

/** Captures what a CLI command writes. */
export function memoryIo (): { out: (t: string) => void, err: (t: string) => void, stdout: () => string, stderr: () => string } {
  let o = ''
  let e = ''
  return { out: (t) => { o += t }, err: (t) => { e += t }, stdout: () => o, stderr: () => e }
}

export interface Spawned {
  child: ChildProcessWithoutNullStreams
  /** Resolves with the first stdout line. */
  firstLine: Promise<string>
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  stdout: () => string
  stderr: () => string
}

/** `node bin/ceph-msgr.js ARGS` with pipes; the first stdout line and the exit are promises. */
export function spawnCli (args: string[]): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let lineResolve: (l: string) => void = () => {}
  let lineReject: (e: Error) => void = () => {}
  const firstLine = new Promise<string>((resolve, reject) => { lineResolve = resolve; lineReject = reject })
  firstLine.catch(() => {}) // only an error for callers that wait for a line
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString('utf8')
    const nl = out.indexOf('\n')
    if (nl >= 0) lineResolve(out.slice(0, nl))
  })
  child.stderr.on('data', (b: Buffer) => { err += b.toString('utf8') })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      lineReject(new Error(`exited (code ${code}, signal ${signal}) before printing a line: ${err}`))
      resolve({ code, signal })
    })
  })
  child.stdin.end()
  return { child, firstLine, exited, stdout: () => out, stderr: () => err }
}

/** The key structure of a JSON value: objects keep their key order, arrays their first element. */
export function shape (v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])]
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shape(x)]))
  }
  return typeof v
}

/** Key lists in order, recursively, so that key order differences show up in a deepEqual. */
export function keyOrder (v: unknown, path = '$'): string[] {
  if (Array.isArray(v)) return v.length === 0 ? [] : keyOrder(v[0], `${path}[0]`)
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return [`${path}: ${Object.keys(o).join(',')}`, ...Object.keys(o).flatMap((k) => keyOrder(o[k], `${path}.${k}`))]
  }
  return []
}
