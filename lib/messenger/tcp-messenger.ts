// The TCP messenger: an Accepter on a net.Server, dialling with net.connect.
import { createServer, connect as netConnect } from 'node:net'
import type { Socket } from 'node:net'
import { AF_INET6, AddrType } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import { MessengerError, MessengerErrorCode } from '../protocol/errors.ts'
import { Messenger, registerMessengerType } from './messenger.ts'
import type { Listener, MessengerOptions } from './messenger.ts'
import type { MsgrSocket } from './socket.ts'
import { TcpSocket } from './tcp-socket.ts'

export class TcpMessenger extends Messenger {
  protected listen (addr: EntityAddr, onSocket: (sock: MsgrSocket) => void): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true }, (s: Socket) => { onSocket(new TcpSocket(s)) })
      server.on('error', reject)
      const host = addr.ip === '' ? (addr.family === AF_INET6 ? '::' : '0.0.0.0') : addr.ip
      server.listen({ host, port: addr.port, backlog: 4096 }, () => {
        server.off('error', reject)
        server.on('error', (e) => { this.log.error('ms', 'accepter error', { err: String(e) }) })
        const a = server.address()
        if (a === null || typeof a === 'string') { reject(new Error('no address')); return }
        resolve({
          addr: { type: AddrType.LEGACY, nonce: 0, family: a.family === 'IPv6' ? AF_INET6 : 2, ip: a.address, port: a.port, ...(a.family === 'IPv6' ? { flowInfo: 0, scopeId: 0 } : {}) },
          close: () => new Promise<void>((resolve) => { server.close(() => { resolve() }) })
        })
      })
    })
  }

  protected dialSocket (addr: EntityAddr, signal?: AbortSignal): Promise<MsgrSocket> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) { reject(signal.reason); return }
      const s = netConnect({ host: addr.ip, port: addr.port, noDelay: true })
      const onAbort = (): void => {
        s.destroy()
        reject(signal?.reason)
      }
      const onError = (e: Error): void => {
        signal?.removeEventListener('abort', onAbort)
        s.destroy()
        reject(new MessengerError(MessengerErrorCode.SOCKET_ERROR, `connect to ${addr.ip}:${addr.port}: ${e.message}`, { cause: e }))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      s.once('error', onError)
      s.once('connect', () => {
        signal?.removeEventListener('abort', onAbort)
        s.off('error', onError)
        resolve(new TcpSocket(s))
      })
    })
  }
}

registerMessengerType('tcp', (opts: MessengerOptions) => new TcpMessenger(opts))
