// What the bench parent and its worker processes say to each other over the fork() IPC channel:
// requests with an id, answered by exactly one reply with the same id.

/** Which implementation a worker runs: ceph-msgr, or the raw `net` baseline. */
export type Impl = 'ours' | 'raw'
export type Role = 'server' | 'client'

/** The server behaviours a case needs. */
/** 'mon' is a bare messenger answering MPing; 'monitor' is the example mon (lib/mon, `npm start`). */
/**
 * 'sink' takes every message by fast dispatch; 'sink-queued' through the DispatchQueue with a
 * synchronous msDispatch; 'sink-queued-async' with one returning a promise (the p-queue lane).
 */
export type ServerMode = 'sink' | 'sink-queued' | 'sink-queued-async' | 'echo' | 'mon' | 'monitor' | 'idle' | 'flood'

export interface ListenParams {
  mode: ServerMode
  /** flood: how fast the (slow) dispatcher consumes, in payload bytes per second. */
  dispatchBytesPerSec?: number
}

export interface Endpoint {
  host: string
  port: number
  /** The Ceph address (`v1:127.0.0.1:PORT/NONCE`) for ceph-msgr clients. */
  addr: string
}

export interface OnewayParams {
  endpoint: Endpoint
  size: number
  /** Target duration of the measured round, ms (the warm-up round sizes it). */
  targetMs: number
  warmupMessages: number
  maxMessages: number
}

export interface OnewayResult {
  messages: number
  bytes: number
  elapsedMs: number
  /** The sender's CPU during the measured round. */
  cpu?: RoundCpu
}

export interface RoundCpu {
  messages: number
  wallMs: number
  userMs: number
  systemMs: number
}

export interface RttParams {
  endpoint: Endpoint
  size: number
  warmup: number
  count: number
}

export interface RttResult {
  /** Round trip times in µs, sorted. */
  p50: number
  p99: number
  mean: number
  count: number
  /** Every sample, in µs (for pooling rounds). */
  times: number[]
}

export interface ConnectPingParams {
  endpoint: Endpoint
  durationMs: number
  warmup: number
}

export interface ConnectPingResult {
  pings: number
  elapsedMs: number
  /** Pings including the warm-up, and the client's CPU for all of them. */
  totalPings?: number
  cpuMs?: number
  /** Pings that failed (librados loop only). */
  errors?: number
}

/** What closing a server reports: its last START..DONE round, and its CPU since listen. */
export interface ServerClosed {
  round: RoundCpu | null
  cpuMs: number
  wallMs: number
}

export interface FaninParams {
  endpoint: Endpoint
  connections: number
  messagesPerConnection: number
  size: number
}

export interface IdleParams {
  endpoint: Endpoint
  connections: number
}

export interface FloodParams {
  endpoint: Endpoint
  size: number
  totalBytes: number
}

export interface MemStats {
  rss: number
  heapUsed: number
  external: number
  arrayBuffers: number
  /** Peak RSS of the process so far (getrusage maxrss). */
  maxRss: number
  /** Peak RSS seen by the server's sampler since listen (flood mode), else 0. */
  sampledPeakRss: number
  sampledPeakArrayBuffers: number
  sampledPeakHeapUsed: number
  /** Connections the server holds. */
  connections: number
}

export type Request =
  | { id: number, op: 'listen', params: ListenParams }
  | { id: number, op: 'mem', gc: boolean }
  | { id: number, op: 'close' }
  | { id: number, op: 'oneway', params: OnewayParams }
  | { id: number, op: 'rtt', params: RttParams }
  | { id: number, op: 'connect-ping', params: ConnectPingParams }
  | { id: number, op: 'fanin', params: FaninParams }
  | { id: number, op: 'idle-open', params: IdleParams }
  | { id: number, op: 'idle-close' }
  | { id: number, op: 'flood', params: FloodParams }
  | { id: number, op: 'exit' }

export type Reply =
  | { id: number, ok: true, value: unknown }
  | { id: number, ok: false, error: string }

/** The first message a worker sends: it is loaded and listening for requests. */
export interface Hello {
  ready: true
  pid: number
}

/** Message kinds shared by both implementations (ceph-msgr type = KIND_BASE + kind). */
export const Kind = {
  /** payload u32 = how many DATA messages the next round has; answered with STARTED. */
  START: 1,
  STARTED: 2,
  DATA: 3,
  /** sent by the server when a round's last DATA message arrived */
  DONE: 4,
  /** answered with the same payload */
  ECHO: 5,
  /** answered with HELLO: the connection is established */
  HELLO: 6
} as const

/** ceph-msgr message types for the bench: unregistered, so they travel as plain Message. */
export const KIND_BASE = 0x7e00
