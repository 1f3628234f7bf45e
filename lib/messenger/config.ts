// Messenger configuration: Ceph's ms_* options that matter here, with Ceph's defaults where Ceph
// has one, validated once.
import { DEFAULT_LIMITS } from '../wire/limits.ts'
import type { DecoderLimits } from '../wire/limits.ts'
import { realTimers } from './timers.ts'
import type { Timers } from './timers.ts'
import type { Interceptor } from '../protocol/intercept.ts'

export interface InjectDelay {
  /** Peer entity types (e.g. ['osd', 'mon']) whose messages are delayed; empty = all. */
  types?: string[]
  maxSeconds: number
  probability: number
}

export interface MessengerConfig {
  crcHeader: boolean
  crcData: boolean
  limits: DecoderLimits
  /** Each handshake step must complete within this (ms_connection_ready_timeout, 10 s). */
  handshakeTimeoutMs: number
  /** Send KEEPALIVE2 this often on open connections (0 = off). */
  keepaliveIntervalMs: number
  /** Fault a connection that has received nothing for this long (0 = off). */
  keepaliveTimeoutMs: number
  /** Close lossy connections idle this long (ms_connection_idle_timeout, 900 s; 0 = off). */
  idleTimeoutMs: number
  /** ms_initial_backoff / ms_max_backoff. */
  initialBackoffMs: number
  maxBackoffMs: number
  /** Soft limit of a connection's out_q in payload bytes: send() returns false above it. */
  outQueueHighWater: number
  /**
   * The same soft limit in messages: small messages cost more as objects than as bytes, and a
   * deep queue of them is live data every garbage collection has to walk.
   */
  outQueueHighWaterMessages: number
  /**
   * Hard limits on what a connection owes its peer (out_q plus sent-but-unacknowledged), in
   * payload bytes and in messages: above either, send() throws OUT_QUEUE_FULL (lossless) or
   * drops the connection (lossy). They bound a peer that stops reading or never ACKs.
   */
  maxOutQueueBytes: number
  maxOutQueueMessages: number
  /**
   * Lossless sessions: at most this many messages written but not yet acknowledged (0 = no
   * limit). Each one stays live for replay until the peer's ACK; on loopback the kernel's socket
   * buffers alone hold ~40 000 small messages, which made every young-generation collection of
   * the sender copy them all. Above the window the rest waits in out_q, where send() and
   * drained() already push back on the caller.
   */
  sendWindowMessages: number
  /** Bytes per write batch (one writev). */
  writeBatchBytes: number
  /**
   * Free payload buffers kept for reuse (0 = no pool). Large payloads (>= 64 KiB) that span
   * socket reads are gathered in pooled buffers; Message.put() gives one back.
   */
  payloadPoolBytes: number
  /** Dispatch throttle (ms_dispatch_throttle_bytes, 100 MiB). */
  dispatchThrottleBytes: number
  /**
   * Asynchronous dispatches (msDispatch returning a promise) in flight at once. 1 = Ceph's single
   * dispatch thread: a connection's messages are handled one at a time, in order. Above 1 they
   * start in Ceph's order but may finish out of it, even within one connection.
   */
  dispatchConcurrency: number
  /** Stop waiting for an asynchronous dispatch after this many ms (0 = never); counted as an error. */
  dispatchTimeoutMs: number
  /** ms_bind_msgr1: bind and dial msgr v1 addresses. */
  bindMsgr1: boolean
  /** ms_bind_msgr2: bind and dial msgr2 addresses (preferred when a peer offers both). */
  bindMsgr2: boolean
  /** Maximum accepted connections (0 = unlimited). */
  maxConnections: number
  /** ms_inject_socket_failures: fail about every Nth socket read or write (0 = off). */
  injectSocketFailures: number
  injectDelay: InjectDelay | undefined
  /** ms_inject_internal_delays: seconds of sleep at race-prone points (0 = off). */
  injectInternalDelays: number
  /** Test hook: called at named handshake steps (see interceptor.ts). */
  interceptor: Interceptor | undefined
  /** Payloads shorter than this are copied out of socket chunks so they don't pin them. */
  copyBelow: number
  timers: Timers
  random: () => number
}

export const DEFAULT_CONFIG: MessengerConfig = {
  crcHeader: true,
  crcData: true,
  limits: DEFAULT_LIMITS,
  handshakeTimeoutMs: 10_000,
  keepaliveIntervalMs: 0,
  keepaliveTimeoutMs: 0,
  idleTimeoutMs: 900_000,
  initialBackoffMs: 200,
  maxBackoffMs: 15_000,
  outQueueHighWater: 16 * 1024 * 1024,
  outQueueHighWaterMessages: 4096,
  maxOutQueueBytes: 256 * 1024 * 1024,
  maxOutQueueMessages: 1024 * 1024,
  sendWindowMessages: 4096,
  writeBatchBytes: 256 * 1024,
  payloadPoolBytes: 32 * 1024 * 1024,
  dispatchThrottleBytes: 100 * 1024 * 1024,
  dispatchConcurrency: 1,
  dispatchTimeoutMs: 0,
  bindMsgr1: true,
  bindMsgr2: true,
  maxConnections: 0,
  injectSocketFailures: 0,
  injectDelay: undefined,
  injectInternalDelays: 0,
  interceptor: undefined,
  copyBelow: 512,
  timers: realTimers,
  random: Math.random
}

export type MessengerConfigInit = Omit<Partial<MessengerConfig>, 'limits'> & { limits?: Partial<DecoderLimits> }

export function resolveConfig (c: MessengerConfigInit = {}): MessengerConfig {
  const out: MessengerConfig = { ...DEFAULT_CONFIG, ...c, limits: { ...DEFAULT_LIMITS, ...c.limits } }
  for (const k of ['handshakeTimeoutMs', 'keepaliveIntervalMs', 'keepaliveTimeoutMs', 'idleTimeoutMs', 'initialBackoffMs', 'maxBackoffMs', 'outQueueHighWater', 'outQueueHighWaterMessages', 'maxOutQueueBytes', 'maxOutQueueMessages', 'sendWindowMessages', 'writeBatchBytes', 'payloadPoolBytes', 'dispatchThrottleBytes', 'dispatchTimeoutMs', 'maxConnections', 'injectSocketFailures'] as const) {
    const v = out[k]
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${k} must be a non-negative number, got ${v}`)
  }
  if (!(Number.isInteger(out.dispatchConcurrency) && out.dispatchConcurrency >= 1)) throw new RangeError(`dispatchConcurrency must be an integer >= 1, got ${out.dispatchConcurrency}`)
  if (out.maxBackoffMs < out.initialBackoffMs) throw new RangeError('maxBackoffMs < initialBackoffMs')
  return out
}
