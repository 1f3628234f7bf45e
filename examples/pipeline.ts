// A Connection is an it-pipe duplex: `source` yields the messages it receives, `sink` sends what
// it is given (waiting while out_q is full). Here an echo server is literally
// `pipe(conn, echo, conn)`, over the in-memory messenger (swap type: 'tcp' for real sockets).
//
//   node --import tsx examples/pipeline.ts
import { pipe } from 'it-pipe'
import { EntityType, MPing, Messenger, Policy } from '../lib/index.ts'
import type { Connection, Message } from '../lib/index.ts'

/** The transform: one reply per request. MPing's payloadText carries our strings. */
async function * echo (source: AsyncIterable<Message>): AsyncGenerator<Message> {
  for await (const m of source) {
    if (m instanceof MPing) yield new MPing({ payloadText: `echo: ${m.payloadText ?? ''}` })
  }
}

const server = Messenger.create({ type: 'memory', name: 'osd.0', nonce: 0, policy: Policy.statelessServer() })
const addr = await server.bind('v1:127.0.0.1:0')
const pipes: Array<Promise<void>> = []
server.addDispatcherTail({
  // Each accepted connection gets its own pipeline; it ends when the connection closes.
  msHandleAccept: (conn: Connection) => {
    pipes.push(pipe(conn, echo, conn).catch(() => {}))
  },
  // A message that raced ahead of msHandleAccept reaches the dispatchers: echo it all the same.
  msDispatch: (m: Message) => {
    if (!(m instanceof MPing)) return false
    m.connection?.send(new MPing({ payloadText: `echo: ${m.payloadText ?? ''}` }))
    return true
  }
})
server.start()

const client = Messenger.create({ type: 'memory', name: 'client.?', policy: Policy.lossyClient() })
client.start()
const conn = client.connectTo(EntityType.OSD, addr)
const replies = conn.source // take the inbound messages from the start
const words = ['alpha', 'beta', 'gamma']
await pipe(words.map((w) => new MPing({ payloadText: w })), conn)
let n = 0
for await (const m of replies) {
  console.log((m as MPing).payloadText)
  if (++n === words.length) break
}
await client.shutdown()
await server.shutdown()
await Promise.all(pipes)
