// The messenger conformance suite over real TCP (loopback, ephemeral ports).
import { defineConformance } from './conformance/suite.ts'

defineConformance('tcp')
