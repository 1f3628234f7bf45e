// A Dispatcher receives what a Messenger publishes. Every method is optional; messages go to
// the dispatchers in order until one returns true from msDispatch.
import type { Message } from '../../messages/message.ts'
import type { Connection } from '../connection.ts'

export interface Dispatcher {
  /** Handle a message from the DispatchQueue; true = handled, stop offering it to others. */
  msDispatch?: (m: Message) => boolean | Promise<boolean>
  /** May this message skip the queue and go to msFastDispatch inline in the reader? */
  msCanFastDispatch?: (m: Message) => boolean
  /** Handle a message in the reader's context: must be quick and must not block. */
  msFastDispatch?: (m: Message) => void
  /** Called for every message in the reader's context before any dispatch (cheap hooks). */
  msFastPreprocess?: (m: Message) => void
  /** Our outgoing connection is ready. */
  msHandleConnect?: (conn: Connection) => void
  /** An incoming connection is ready. */
  msHandleAccept?: (conn: Connection) => void
  /** A lossy connection faulted and was closed: its messages may be lost. */
  msHandleReset?: (conn: Connection) => boolean | void
  /** The peer lost our session (it restarted): undelivered messages are gone. */
  msHandleRemoteReset?: (conn: Connection) => void
  /** The peer refused the connection (BADPROTOVER, FEATURES, BADAUTHORIZER). */
  msHandleRefused?: (conn: Connection) => boolean | void
}
