export * from './policy.ts'
export * from './session.ts'
export * from './out-queue.ts'
