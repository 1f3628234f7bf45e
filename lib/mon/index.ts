// The mon side of ceph-msgr: a Monitor that answers like a Pacific mon (auth none), its pong, a
// ping client, and the Prometheus exposition it serves.
export * from './monitor.ts'
export * from './pong.ts'
export * from './ping-client.ts'
export * from './metrics.ts'
