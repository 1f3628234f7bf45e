// Types for parse-prometheus-text-format (a devDependency; it ships none).
declare module 'parse-prometheus-text-format' {
  export interface PromSample {
    value?: string
    labels?: Record<string, string>
    buckets?: Record<string, string>
    quantiles?: Record<string, string>
    count?: string
    sum?: string
    timestamp_ms?: string
  }
  export interface PromFamily {
    name: string
    help: string
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
    metrics: PromSample[]
  }
  export default function parsePrometheusTextFormat (text: string): PromFamily[]
}
