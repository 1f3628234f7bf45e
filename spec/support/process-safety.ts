// Loaded into every spec process (package.json "spec" script): a leaked-listener warning or an
// uncaught exception fails the run instead of scrolling past. Unhandled rejections are already
// fatal through --unhandled-rejections=strict.
process.on('warning', (w) => {
  if (w.name === 'MaxListenersExceededWarning') {
    process.stderr.write(`process-safety: ${w.name}: ${w.message}\n`)
    process.exitCode = 1
  }
})

process.on('uncaughtExceptionMonitor', (err) => {
  process.stderr.write(`process-safety: uncaught exception: ${String(err)}\n`)
  process.exitCode = 1
})
