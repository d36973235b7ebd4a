import { trace } from '@opentelemetry/api';

const tracer = trace.getTracer('partner-callbacks');

/**
 * Runs synchronous work in its own span, for the steps no instrumentation sees (signing a webhook).
 * Without tracing the tracer is a no-op and this is a plain call.
 */
export function inSpan<T>(name: string, work: () => T): T {
  return tracer.startActiveSpan(name, (span) => {
    try {
      return work();
    } finally {
      span.end();
    }
  });
}
