// The reader of an open connection, and its tag router: frames from the socket, synchronously a
// chunk at a time; ACK and keepalives to the session and the writer, messages through the
// receive throttles and the session's in_seq to the messenger's dispatch path.
import { Message } from '../../messages/message.ts'
import { decodeTypedMessage } from '../../messages/registry.ts'
import { MessengerError, MessengerErrorCode } from '../../protocol/errors.ts'
import type { Session } from '../../session/session.ts'
import { ProtocolError } from '../../wire/errors.ts'
import type { EntityName } from '../../wire/entity-name.ts'
import type { Frame, MsgFrame, Timespec } from '../../wire/frame.ts'
import type { FrameReader } from '../frame-reader.ts'
import type { MsgrSocket } from '../socket.ts'
import type { ConnectionCounters } from './counters.ts'
import type { ReceiveThrottle } from './receive-throttle.ts'
import type { Writer } from './writer.ts'

/** What the reader needs of its connection. */
export interface ReaderHost {
  readonly session: Session<Message>
  readonly counters: ConnectionCounters
  readonly throttle: ReceiveThrottle
  readonly writer: Writer
  readonly peerType: number
  /** Still reading from this socket (it is the connection's, and the connection is not closed). */
  reading: (sock: MsgrSocket) => boolean
  /** The connection was closed (while a message waited for a throttle, say). */
  isClosed: () => boolean
  /** The message's sender, from the protocol (v1: the src of its header). */
  setPeerName: (name: EntityName) => void
  keepaliveAcked: (stamp: Timespec) => void
  /** An ACK freed room in out_q's limits: wake who waits for drained(). */
  notifyDrain: () => void
  /** What received messages name as their connection. */
  readonly self: Message['connection']
  deliver: (m: Message) => void
}

export class Reader {
  /** performance.now() of the last socket read: the receive stamp of the messages it completed. */
  private rxStamp = 0

  async run (host: ReaderHost, sock: MsgrSocket, reader: FrameReader): Promise<unknown> {
    const dec = reader.dec
    this.rxStamp = performance.now()
    while (host.reading(sock)) {
      let f = dec.next()
      while (f !== undefined) {
        if (f.kind === 'msg') {
          const p = this.handleMsg(host, f)
          if (p !== undefined) await p
        } else {
          const end = this.handleControl(host, f)
          if (end !== undefined) return end
        }
        if (!host.reading(sock)) break
        f = dec.next()
      }
      // Take a queued chunk at once; else wait on the socket itself (one promise hop per wake-up).
      let more = reader.poll()
      while (more === undefined) {
        const w = reader.readable()
        if (w === undefined) {
          more = await reader.fill()
        } else {
          await w
          more = reader.poll()
        }
      }
      if (!more) {
        dec.end()
        return new MessengerError(MessengerErrorCode.PEER_CLOSED, 'peer closed the connection')
      }
      // Every message completed by this read arrived now (one clock read per read, not per message).
      this.rxStamp = performance.now()
    }
    return new MessengerError(MessengerErrorCode.CLOSED, 'reader stopped')
  }

  private handleControl (host: ReaderHost, f: Frame): unknown {
    const c = host.counters
    switch (f.kind) {
      case 'ack': {
        c.acksIn++
        const session = host.session
        // An ACK that trims the sent list may reopen the send window.
        if (session.handleAck(f.seq) > 0 && session.outQ.length > 0) host.writer.notify()
        host.notifyDrain()
        return undefined
      }
      case 'keepalive':
        c.keepalivesIn++
        return undefined
      case 'keepalive2':
        c.keepalivesIn++
        host.writer.keepaliveAck(f.stamp)
        return undefined
      case 'keepalive2_ack':
        c.keepaliveAcksIn++
        host.keepaliveAcked(f.stamp)
        return undefined
      case 'close':
        return new MessengerError(MessengerErrorCode.PEER_CLOSED, 'peer sent CLOSE')
      default:
        return new ProtocolError('UNEXPECTED_DATA', `${f.kind} on an open session`, 0)
    }
  }

  /** One received message: throttles, dedupe, then the messenger's dispatch path. */
  private handleMsg (host: ReaderHost, f: MsgFrame): Promise<void> | undefined {
    const bytes = f.front.length + f.middle.length + f.data.length
    // Each throttle is tried without waiting first; waiting stops this reader (and so the socket).
    const stage = host.throttle.tryTake(host.peerType, bytes)
    if (stage < 0) {
      this.accept(host, f, bytes)
      return undefined
    }
    return this.waitThrottles(host, f, bytes, stage)
  }

  private async waitThrottles (host: ReaderHost, f: MsgFrame, bytes: number, stage: number): Promise<void> {
    host.counters.throttleWaits++
    await host.throttle.take(host.peerType, bytes, stage)
    this.accept(host, f, bytes)
  }

  private accept (host: ReaderHost, f: MsgFrame, bytes: number): void {
    const h = f.header
    if (host.isClosed()) {
      // Marked down while this message was being read (or waited for a throttle): drop it.
      host.throttle.release(host.peerType, bytes)
      f.lease?.release()
      return
    }
    // The decoded header carries every MessageInit field but the sections: no init object per message.
    const raw = new Message(h)
    raw.front = f.front
    raw.middle = f.middle
    raw.data = f.data
    raw.seq = h.seq
    raw.connection = host.self
    raw.recvStamp = this.rxStamp
    raw.throttleHeld = bytes
    raw.lease = f.lease
    const session = host.session
    if (session.receive(h.seq) === 'duplicate') {
      host.counters.duplicates++
      host.throttle.release(host.peerType, bytes)
      raw.throttleHeld = -1
      raw.put()
      return
    }
    let m: Message
    try {
      m = decodeTypedMessage(raw)
    } catch (e) {
      host.throttle.release(host.peerType, bytes)
      raw.throttleHeld = -1
      raw.put()
      throw e
    }
    if (m !== raw) {
      m.throttleHeld = bytes
      raw.throttleHeld = -1
      m.lease = raw.lease
      raw.lease = undefined
    }
    host.counters.msgsIn++
    host.counters.bytesIn += bytes
    host.setPeerName(h.src)
    if (!session.lossy) host.writer.accepted(session, bytes)
    host.deliver(m)
  }
}
