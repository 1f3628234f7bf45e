// Child process of spec/messenger/backoff.spec.ts: a lossless client whose only pending work is a
// message to a peer that is not up yet. Nothing but the reconnect backoff timer is left to keep
// this process alive while it waits; it prints "delivered" once the peer has ACKed the message.
import { EntityType, Message, Messenger, Policy } from '../../lib/index.ts'

const msgr = Messenger.create({ type: 'tcp', name: 'osd.2', policy: Policy.losslessPeer() })
msgr.start()
const conn = msgr.connectTo(EntityType.OSD, `v1:127.0.0.1:${process.argv[2]}`)
conn.send(new Message({ type: 0x7001, front: new TextEncoder().encode('hello') }))
await conn.flushed()
process.stdout.write('delivered\n')
await msgr.shutdown(0)
