// What touching a page for the first time costs on this machine, against touching a warm one:
//   node --import tsx bench/first-touch.ts
// On the bench VM a fresh 4 KiB page cost 1-16 us and a warm one ~2 ns, which is why the receive
// path avoids copying payloads into fresh memory where it can (see README, Speed).
const PAGE = 4096
const PAGES = 16
const ROUNDS = 2000

function nsPerPage (make: () => Uint8Array): number {
  let x = 0
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < ROUNDS; i++) {
    const b = make()
    for (let p = 0; p < PAGES; p++) x += b[p * PAGE]
  }
  const ns = Number(process.hrtime.bigint() - t0) / ROUNDS / PAGES
  return x === -1 ? NaN : ns
}

const keep: Uint8Array[] = []
const warm = Buffer.alloc(PAGE * PAGES)
for (let r = 0; r < 3; r++) {
  const fresh = nsPerPage(() => { const b = Buffer.allocUnsafeSlow(PAGE * PAGES); keep.push(b); return b })
  keep.length = 0
  const hot = nsPerPage(() => warm)
  process.stdout.write(`round ${r + 1}: fresh page ${fresh.toFixed(0)} ns, warm page ${hot.toFixed(1)} ns\n`)
}
