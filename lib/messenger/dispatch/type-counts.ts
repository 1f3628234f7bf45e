// Received-message counts per message type (perfDump's msgr_recv_messages_by_type). Types are
// u16: counted in pages of 256 made on first use, so a count is two array indexings where a
// Map was a hash lookup and a store per message.
export class TypeCounts {
  private readonly pages: Array<Float64Array | undefined> = []

  inc (type: number): void {
    const hi = type >>> 8
    let page = this.pages[hi]
    if (page === undefined) {
      page = new Float64Array(256)
      this.pages[hi] = page
    }
    page[type & 0xff]++
  }

  get (type: number): number {
    return this.pages[type >>> 8]?.[type & 0xff] ?? 0
  }

  /** Types seen, with their counts, in type order. */
  toRecord (): Record<string, number> {
    const out: Record<string, number> = {}
    this.pages.forEach((page, hi) => {
      if (page === undefined) return
      for (let lo = 0; lo < 256; lo++) if (page[lo] > 0) out[String(hi * 256 + lo)] = page[lo]
    })
    return out
  }
}
