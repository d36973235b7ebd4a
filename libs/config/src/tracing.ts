import type { Environment } from './config';
import { loadDotenv } from './dotenv';

/** What the process needs to know before anything else loads; the OpenTelemetry SDK reads the rest of OTEL_*. */
export interface TracingConfig {
  /** An OTLP endpoint is set (and the SDK is not disabled): tracing is on. Otherwise nothing is loaded. */
  enabled: boolean;
  /** OTEL_SERVICE_NAME, or the process's own name (partner-callbacks-api / partner-callbacks-worker). */
  serviceName: string;
}

/** The variables that name where traces go; one of them must be set for tracing to start. */
export const OTLP_ENDPOINT_VARIABLES = ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'] as const;

function read(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** Tracing is configured by the standard OTEL_* variables only, and is off without an OTLP endpoint. */
export function tracingConfig(env: Environment, defaultServiceName: string): TracingConfig {
  const endpoint = OTLP_ENDPOINT_VARIABLES.map((name) => read(env, name)).find((value) => value !== undefined);
  const disabled = read(env, 'OTEL_SDK_DISABLED') === 'true' || read(env, 'OTEL_TRACES_EXPORTER') === 'none';
  return { enabled: endpoint !== undefined && !disabled, serviceName: read(env, 'OTEL_SERVICE_NAME') ?? defaultServiceName };
}

/** For the tracing preload, which runs before startService: `.env` and the environment, read here as everywhere. */
export function readTracingConfig(defaultServiceName: string): TracingConfig {
  loadDotenv();
  return tracingConfig(process.env, defaultServiceName);
}
