// The CLI edge of mon addresses: parse them (lib/config/mon-host.ts, pure), resolve hostnames,
// and "hunt" like a Ceph client: try the mons in order until one answers.
import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { MonHostError, formatMonHostAddr, parseMonHost, v1Targets } from '../config/mon-host.ts'
import type { MonHostAddr } from '../config/mon-host.ts'
import { MonPingClient, PingError } from '../mon/ping-client.ts'
import type { MonPingClientOptions, Pong } from '../mon/ping-client.ts'
import type { Connection } from '../messenger/connection.ts'

export type Lookup = (host: string) => Promise<Array<{ address: string, family: number }>>

const systemLookup: Lookup = (host) => dnsLookup(host, { all: true })

/** `v1:IP:PORT/NONCE`, IPv6 bracketed: what parseEntityAddr and the messenger take. */
export function v1AddrText (ip: string, port: number, nonce: number): string {
  return `v1:${ip.includes(':') ? `[${ip}]` : ip}:${port}/${nonce}`
}

export interface ResolvedTargets {
  /** v1 addresses with IPs, in the order to try (a hostname gives one per address it resolves to). */
  addrs: string[]
  /** Notes for stderr: mons left out because they offer only msgr2. */
  warnings: string[]
}

/**
 * Parse `text` (a mon address or list, any of Ceph's forms) and resolve its hostnames. Throws a
 * MonHostError (Msgr2UnsupportedError for v2-only input) with a message for the user.
 */
export async function resolveMonTargets (text: string, lookup: Lookup = systemLookup): Promise<ResolvedTargets> {
  const { targets, v2Only } = v1Targets(parseMonHost(text))
  const warnings = v2Only.map((v) => `skipping ${v.map(formatMonHostAddr).join(',')}: msgr2 is not supported yet`)
  const addrs: string[] = []
  for (const t of targets) {
    for (const ip of await resolveHost(t, lookup)) {
      const a = v1AddrText(ip, t.port, t.nonce)
      if (!addrs.includes(a)) addrs.push(a)
    }
  }
  return { addrs, warnings }
}

async function resolveHost (t: MonHostAddr, lookup: Lookup): Promise<string[]> {
  const host = t.host.replace(/%.*$/, '')
  if (isIP(host) !== 0) return [t.host]
  try {
    const r = await lookup(t.host)
    if (r.length === 0) throw new Error('no addresses')
    return r.map((x) => x.address)
  } catch (e) {
    const code = (e as { code?: unknown }).code
    throw new MonHostError(`cannot resolve '${t.host}': ${typeof code === 'string' ? code : (e as Error).message}`)
  }
}

/** A failure that says nothing against the next mon: try it. */
function worthHunting (e: unknown): boolean {
  return e instanceof PingError && (e.kind === 'connect' || e.kind === 'refused' || e.kind === 'timeout')
}

/**
 * MonPingClient over several candidate addresses, like a Ceph client hunting for a mon: until one
 * has answered, a ping that cannot connect moves on to the next candidate within the same call.
 * Once a mon has answered, it is the one pinged (redialled after a reset, as MonPingClient does).
 */
export class MonHunter {
  private readonly clients: MonPingClient[]
  private current = 0
  private settled = false

  constructor (addrs: string[], opts: MonPingClientOptions) {
    if (addrs.length === 0) throw new TypeError('no mon address')
    this.clients = addrs.map((a) => new MonPingClient(a, opts))
  }

  get client (): MonPingClient {
    return this.clients[this.current]
  }

  /** The mon being pinged now (the one that answered, once one has). */
  get target (): MonPingClient['target'] {
    return this.client.target
  }

  get connection (): Connection | undefined {
    return this.client.connection
  }

  /** Connections opened so far to the current mon (1 + its reconnects). */
  get connections (): number {
    return this.client.connections
  }

  get candidates (): number {
    return this.clients.length
  }

  async ping (): Promise<Pong> {
    if (this.settled || this.clients.length === 1) return this.client.ping()
    let last: unknown
    for (let tried = 0; tried < this.clients.length; tried++) {
      try {
        const pong = await this.client.ping()
        this.settled = true
        return pong
      } catch (e) {
        last = e
        if (!worthHunting(e)) throw e
        this.client.disconnect()
        this.current = (this.current + 1) % this.clients.length
      }
    }
    throw last
  }

  async close (): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()))
  }
}
