// Test harness of the messenger conformance suite: messengers that are shut down by the test's
// `after` hook, latches to await counts instead of sleeping, a seeded PRNG, and small message
// helpers. Nothing here knows which transport it runs on.
import { Message } from '../../../lib/messages/message.ts'
import { Connection } from '../../../lib/messenger/connection.ts'
import type { Logger } from '../../../lib/messenger/logger.ts'
import { Messenger } from '../../../lib/messenger/messenger.ts'
import type { MessengerOptions } from '../../../lib/messenger/messenger.ts'
import '../../../lib/messenger/memory-messenger.ts'
import '../../../lib/messenger/tcp-messenger.ts'
import type { EntityAddr } from '../../../lib/wire/entity-addr.ts'
import { CephxAuthClient, CephxServer, ConMode, CryptoKey, Keyring, MonAuthServer, ServiceSecrets, systemRandom } from '../../../lib/auth/index.ts'
import { EntityType } from '../../../lib/wire/constants.ts'

export type MessengerType = 'memory' | 'tcp'
/** v1; v2 in crc mode with auth none; v2 in secure mode with cephx (one test keyring). */
export type WireVersion = 'v1' | 'v2' | 'v2-secure'

/** Every messenger of a secure harness authenticates as client.admin against this keyring. */
function secureAuth (): NonNullable<MessengerOptions['auth']> {
  const entity = { type: EntityType.CLIENT, id: 'admin' }
  const key = CryptoKey.generate(systemRandom, { sec: Math.floor(Date.now() / 1000), nsec: 0 })
  const keyring = new Keyring()
  keyring.set({ entity, key, caps: new Map([['mon', 'allow *']]) })
  const cephx = new CephxServer({ keyring, secrets: new ServiceSecrets() })
  return {
    server: new MonAuthServer({ cephx, modes: [ConMode.SECURE] }),
    client: () => new CephxAuthClient({ entity, key, preferredModes: [ConMode.SECURE] })
  }
}

/** Message types no registry knows: they travel as plain Messages. */
export const T_DATA = 0x7001
export const T_ECHO = 0x7002
export const T_SLOW = 0x7003
export const T_FAST = 0x7004
export const T_OTHER = 0x7005

export interface AfterHook {
  after: (fn: () => Promise<void> | void) => void
}

/** Creates messengers of one type and shuts every one of them down when the test ends. */
export class Harness {
  readonly type: MessengerType
  /** The wire protocol servers bind (and so clients dial). */
  readonly wire: WireVersion
  readonly messengers: Messenger[] = []
  private readonly auth: MessengerOptions['auth']

  constructor (type: MessengerType, t: AfterHook, wire: WireVersion = 'v1') {
    this.type = type
    this.wire = wire
    this.auth = wire === 'v2-secure' ? secureAuth() : undefined
    t.after(() => this.shutdown())
  }

  /** An ephemeral loopback address of the harness's protocol. */
  local (ip = '127.0.0.1'): string {
    return `${this.wire === 'v1' ? 'v1' : 'v2'}:${ip.includes(':') ? `[${ip}]` : ip}:0`
  }

  create (opts: Omit<MessengerOptions, 'type'>): Messenger {
    const m = Messenger.create({ ...opts, type: this.type, ...(this.auth !== undefined && opts.auth === undefined ? { auth: this.auth } : {}) })
    this.messengers.push(m)
    return m
  }

  /** A started messenger bound to an ephemeral port. */
  async server (opts: Omit<MessengerOptions, 'type'>, bindTo = this.local()): Promise<{ msgr: Messenger, addr: EntityAddr }> {
    const msgr = this.create(opts)
    const addr = await msgr.bind(bindTo)
    msgr.start()
    return { msgr, addr }
  }

  /** A started messenger that does not listen. */
  client (opts: Omit<MessengerOptions, 'type'>): Messenger {
    const msgr = this.create(opts)
    msgr.start()
    return msgr
  }

  /** Shut every messenger down; then none may hold a connection or a queued item (no leak). */
  async shutdown (): Promise<void> {
    await Promise.all(this.messengers.map(async (m) => { await m.shutdown(0) }))
    await Promise.all(this.messengers.map(async (m) => { await m.wait() }))
    const leaks = this.messengers
      .filter((m) => m.connections.size > 0 || m.dispatchQueue.length > 0)
      .map((m) => `${m.perfDump().name as string}: ${m.connections.size} connections, ${m.dispatchQueue.length} queued`)
    if (leaks.length > 0) throw new Error(`left after shutdown: ${leaks.join('; ')}`)
  }
}

export interface Deferred<T> {
  promise: Promise<T>
  resolve: (v: T) => void
  reject: (e: unknown) => void
}

export function deferred<T = void> (): Deferred<T> {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

/** A counter whose values can be awaited. */
export class Latch {
  count = 0
  private waiters: Array<{ n: number, resolve: () => void }> = []

  inc (by = 1): void {
    this.count += by
    if (this.waiters.length === 0) return
    const ready = this.waiters.filter((w) => w.n <= this.count)
    if (ready.length === 0) return
    this.waiters = this.waiters.filter((w) => w.n > this.count)
    for (const w of ready) w.resolve()
  }

  /** Resolves once the count has reached n. */
  until (n: number): Promise<void> {
    if (this.count >= n) return Promise.resolve()
    return new Promise((resolve) => { this.waiters.push({ n, resolve }) })
  }
}

/** Rejects with a clear message when `p` does not settle in time (a stall), instead of hanging. */
export async function within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`stalled: ${what} not done within ${ms} ms`)) }, ms)
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Deterministic PRNG (mulberry32). */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A message carrying its index in `tid`. */
export function numbered (i: number, opts: { type?: number, priority?: number, data?: Uint8Array, front?: Uint8Array } = {}): Message {
  return new Message({ type: opts.type ?? T_DATA, tid: i, ...(opts.priority !== undefined ? { priority: opts.priority } : {}), ...(opts.data !== undefined ? { data: opts.data } : {}), ...(opts.front !== undefined ? { front: opts.front } : {}) })
}

export function connOf (m: Message): Connection {
  const c = m.connection
  if (!(c instanceof Connection)) throw new TypeError('message without its connection')
  return c
}

/** Yield to I/O once (not a sleep: lets pending socket events run). */
export function tick (): Promise<void> {
  return new Promise((resolve) => { setImmediate(resolve) })
}

export function ms (t0: number): number {
  return Math.round(performance.now() - t0)
}

/** A Logger that keeps the server's accept decisions (trace 'accept decision'), by action/tag. */
export function decisionLogger (): { logger: Logger, decisions: Map<string, number> } {
  const decisions = new Map<string, number>()
  const nop = (): void => {}
  return {
    decisions,
    logger: {
      error: nop,
      warn: nop,
      info: nop,
      debug: nop,
      trace: (_subsys, msg, fields) => {
        if (msg !== 'accept decision' || fields === undefined) return
        const k = fields.action === 'retry' || fields.action === 'refuse' ? `${String(fields.action)}:${String(fields.tag)}` : String(fields.action)
        decisions.set(k, (decisions.get(k) ?? 0) + 1)
      }
    }
  }
}
