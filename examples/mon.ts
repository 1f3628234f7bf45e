// A one-mon "cluster" in a few lines: a Monitor is a Dispatcher on its own Messenger, answering
// MAuth (auth none), MPing and MMonGetMap like a Pacific mon. Ping it with the real client:
//
//   node --import tsx examples/mon.ts v1:127.0.0.1:6789
//   ceph --conf /dev/null -m v1:127.0.0.1:6789 ping mon.a    (the real client; needs a conf, any)
//   npx ceph-msgr ping v1:127.0.0.1:6789 --count 3
//
// Ctrl-C prints the counters and stops it. (The full command is `npx ceph-msgr mon --help`.)
import { createLogger, formatEntityAddr } from '../lib/index.ts'
import { Monitor } from '../lib/mon/index.ts'

const mon = new Monitor({ id: 'a', addr: process.argv[2] ?? 'v1:127.0.0.1:6789', logger: createLogger(1) })
const addr = await mon.init()
console.log(`mon.${mon.id} listening on ${formatEntityAddr(addr)} (fsid ${mon.fsid})`)

process.once('SIGINT', () => {
  void (async () => {
    await mon.shutdown()
    console.log('counters', mon.counters)
  })()
})
