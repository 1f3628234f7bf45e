// Ceph message payloads: the encoding primitives, the typed messages and the type registry.
// A typed message's constructor sets fields only; encodePayload(features) builds `front` for the
// connection's features. Like Ceph's Message::encode, the sender calls it when the payload is
// still empty, so a received message forwarded as-is keeps its bytes.
export * from './message.ts'
export * from './denc.ts'
export * from './addr-codec.ts'
export * from './paxos.ts'
export * from './ping.ts'
export * from './auth.ts'
export * from './auth-reply.ts'
export * from './mon-map.ts'
export * from './mon-get-map.ts'
export * from './registry.ts'
