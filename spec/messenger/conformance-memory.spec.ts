// The messenger conformance suite over the in-memory transport.
import { defineConformance } from './conformance/suite.ts'

defineConformance('memory')
