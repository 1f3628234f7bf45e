// Socket failures we cause ourselves: injected ones (ms_inject_socket_failures) and those of our
// own timers (handshake, keepalive). The reader then sees only an EOF (memory) or a wrapped socket
// error (TCP), so the reason is remembered per socket and reported instead.
import { MessengerError, MessengerErrorCode } from '../../protocol/errors.ts'
import type { MsgrSocket } from '../socket.ts'

const localFaults = new WeakMap<MsgrSocket, unknown>()

/** Destroy `sock` for `err`, remembering the first reason given. */
export function failSocket (sock: MsgrSocket, err: MessengerError): void {
  if (!localFaults.has(sock)) localFaults.set(sock, err)
  sock.destroy(err)
}

/** Why we destroyed this socket ourselves, if we did. */
export function localFault (sock: MsgrSocket): unknown {
  return localFaults.get(sock)
}

/** Fails a socket once in `every` reads or writes on average (0 = never). */
export class FaultInjector {
  private readonly every: number
  private readonly random: () => number
  private readonly counters: { injectedFailures: number }

  constructor (every: number, random: () => number, counters: { injectedFailures: number }) {
    this.every = every
    this.random = random
    this.counters = counters
  }

  get enabled (): boolean {
    return this.every > 0
  }

  maybeFail (sock: MsgrSocket | undefined): void {
    if (sock === undefined || this.every <= 0) return
    if (Math.floor(this.random() * this.every) === 0) {
      this.counters.injectedFailures++
      failSocket(sock, new MessengerError(MessengerErrorCode.INJECTED, 'injected socket failure'))
    }
  }
}
