// ceph-msgr: Ceph's messenger (msgr v1) for Node.js.
export * from './wire/index.ts'
export * from './messages/index.ts'
export * from './session/index.ts'
export * from './messenger/index.ts'
export * from './mon/index.ts'
