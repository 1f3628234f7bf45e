// The in-memory messenger: the same Messenger over in-process socket pairs. Addresses look like
// TCP ones (v1:127.0.0.1:PORT) in a process-wide table, so one conformance suite runs on both.
import { AF_INET, AF_INET6, AddrType } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import { MessengerError, MessengerErrorCode } from '../protocol/errors.ts'
import { memorySocketPair } from './memory-socket.ts'
import { Messenger, registerMessengerType } from './messenger.ts'
import type { Listener, MessengerOptions } from './messenger.ts'
import type { MsgrSocket } from './socket.ts'

const listeners = new Map<string, (sock: MsgrSocket) => void>()
let nextPort = 40000
let nextClientPort = 50000

function key (ip: string, port: number): string {
  return `${ip}|${port}`
}

export class MemoryMessenger extends Messenger {
  protected async listen (addr: EntityAddr, onSocket: (sock: MsgrSocket) => void): Promise<Listener> {
    const ip = addr.ip === '' ? '127.0.0.1' : addr.ip
    let port = addr.port
    if (port === 0) {
      while (listeners.has(key(ip, nextPort))) nextPort++
      port = nextPort++
    }
    const k = key(ip, port)
    if (listeners.has(k)) throw new MessengerError(MessengerErrorCode.SOCKET_ERROR, `EADDRINUSE ${ip}:${port}`)
    listeners.set(k, onSocket)
    const family = ip.includes(':') ? AF_INET6 : AF_INET
    return {
      addr: { type: AddrType.LEGACY, nonce: 0, family, ip, port },
      close: async () => { if (listeners.get(k) === onSocket) listeners.delete(k) }
    }
  }

  protected async dialSocket (addr: EntityAddr): Promise<MsgrSocket> {
    const target = listeners.get(key(addr.ip, addr.port))
    if (target === undefined) {
      throw new MessengerError(MessengerErrorCode.SOCKET_ERROR, `connect to ${addr.ip}:${addr.port}: ECONNREFUSED`, { cause: Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' }) })
    }
    const fam = addr.family === AF_INET6 ? 6 : 4
    const local = { ip: addr.ip, port: nextClientPort++, family: fam }
    if (nextClientPort > 65000) nextClientPort = 50000
    const remote = { ip: addr.ip, port: addr.port, family: fam }
    const [client, server] = memorySocketPair(local, remote)
    target(server)
    return client
  }
}

registerMessengerType('memory', (opts: MessengerOptions) => new MemoryMessenger(opts))
