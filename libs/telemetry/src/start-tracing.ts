import { readTracingConfig } from '@callbacks/config';

/** A running tracer: shut it down after the app has closed, so the last spans are sent. */
export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry tracing when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); the SDK reads every other standard OTEL_* variable itself.
 * It must run before the modules it instruments are loaded: each app's main.ts imports its
 * tracing.ts first. Without an endpoint nothing is loaded or created, and it returns null.
 */
export function startTracing(defaultServiceName: string): Tracing | null {
  const settings = readTracingConfig(defaultServiceName);
  if (!settings.enabled) return null;
  // Loaded here, not at the top: a process without tracing never loads the SDK.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createTracing } = require('./tracing-sdk') as typeof import('./tracing-sdk');
  return createTracing(settings.serviceName);
}
