// ceph-msgr: Ceph's messenger (msgr v1) for Node.js. This is the library: the wire codec, the
// messages, sessions and the Messenger. The example monitor, its ping client and its metrics are
// the separate entry point `ceph-msgr/mon` (lib/mon/), the command line `ceph-msgr/cli`.
export * from './wire/index.ts'
export * from './messages/index.ts'
export * from './session/index.ts'
export * from './messenger/index.ts'
