// A wake-up flag for one waiting loop (the writer): notify() before wait() is not lost, and
// many notify() calls cost one wake-up. No promise is created while there is work to do.

export class Signal {
  private flagged = false
  private waiter: (() => void) | undefined

  notify (): void {
    if (this.waiter !== undefined) {
      const w = this.waiter
      this.waiter = undefined
      w()
    } else {
      this.flagged = true
    }
  }

  wait (): Promise<void> | undefined {
    if (this.flagged) {
      this.flagged = false
      return undefined
    }
    return new Promise((resolve) => { this.waiter = resolve })
  }
}
