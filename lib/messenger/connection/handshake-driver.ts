// Runs a protocol's sans-IO handshake over a socket: writes what it yields, reads the frames it
// asks for (each step bounded by the handshake timeout), awaits the test interceptor at its named
// steps, and returns what the handshake returned.
import { MessengerError, MessengerErrorCode } from '../../protocol/errors.ts'
import type { Handshake } from '../../protocol/handshake.ts'
import type { InterceptInfo, InterceptStep } from '../../protocol/intercept.ts'
import { ProtocolError } from '../../wire/errors.ts'
import type { EntityAddr } from '../../wire/entity-addr.ts'
import type { Frame } from '../../wire/frame.ts'
import type { MessengerConfig } from '../config.ts'
import type { FrameReader } from '../frame-reader.ts'
import type { Logger } from '../logger.ts'
import type { MsgrSocket } from '../socket.ts'
import { failSocket } from './fault-injection.ts'

export interface HandshakeIo {
  readonly config: MessengerConfig
  readonly log: Logger
  readonly sock: MsgrSocket
  readonly reader: FrameReader
  /** Interceptor info common to every step (the peer, the connection id). */
  readonly who: Pick<InterceptInfo, 'peer' | 'connectionId'>
  /** The error for a frame of the wrong kind (the client and server sides name it differently). */
  unexpected: (expected: string, got: string, offset: number) => Error
  write: (bufs: Uint8Array[]) => void
  sleep: (ms: number) => Promise<void>
  learnAddr?: (addr: EntityAddr) => void
  remoteReset?: (dropped: number) => void
}

export async function driveHandshake<R> (hs: Handshake<Frame, R>, io: HandshakeIo): Promise<R> {
  const cfg = io.config
  let timer: unknown
  const arm = (): void => {
    if (cfg.handshakeTimeoutMs <= 0) return
    if (timer !== undefined) cfg.timers.clearTimeout(timer)
    timer = cfg.timers.setTimeout(() => {
      failSocket(io.sock, new MessengerError(MessengerErrorCode.HANDSHAKE_TIMEOUT, 'handshake step timed out'))
    }, cfg.handshakeTimeoutMs)
  }
  arm()
  try {
    let input: Frame | undefined
    while (true) {
      const r = hs.next(input)
      input = undefined
      if (r.done === true) return r.value
      const step = r.value
      switch (step.kind) {
        case 'write':
          io.write(step.bufs)
          break
        case 'read': {
          const f = await nextFrame(io, step.expect)
          if (f.kind !== step.expect) throw io.unexpected(step.expect, f.kind, io.reader.dec.offset)
          arm()
          input = f
          break
        }
        case 'intercept':
          await intercept(cfg, step.step, { ...io.who, ...step.info })
          break
        case 'delay':
          await io.sleep(step.ms)
          break
        case 'learnAddr':
          io.learnAddr?.(step.addr)
          break
        case 'remoteReset':
          io.remoteReset?.(step.dropped)
          break
        case 'trace':
          io.log.trace('ms', step.what, step.fields)
          break
      }
    }
  } finally {
    if (timer !== undefined) cfg.timers.clearTimeout(timer)
  }
}

async function nextFrame (io: HandshakeIo, expect: string): Promise<Frame> {
  try {
    return await io.reader.next()
  } catch (e) {
    const c = (e as { cause?: unknown })?.cause
    if (c instanceof MessengerError && c.code === MessengerErrorCode.HANDSHAKE_TIMEOUT) {
      throw new MessengerError(MessengerErrorCode.HANDSHAKE_TIMEOUT, `no ${expect} from the peer in time`)
    }
    throw e
  }
}

async function intercept (cfg: MessengerConfig, step: InterceptStep, info: InterceptInfo): Promise<void> {
  const ic = cfg.interceptor
  if (ic === undefined) return
  if (await ic.intercept(step, info) === 'fail') {
    throw new MessengerError(MessengerErrorCode.INJECTED, `interceptor failed the connection at ${step}`)
  }
}

/** The client side's error for an unexpected frame (a codec-level surprise). */
export function unexpectedFrame (expected: string, got: string, offset: number): Error {
  return new ProtocolError('UNEXPECTED_DATA', `expected ${expected}, got ${got}`, offset)
}
