import type { IncomingMessage } from 'node:http';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation, type UndiciRequest } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { register as registerEsmHooks, supportsSyncHooks } from 'import-in-the-middle/register-hooks.mjs';
import type { Tracing } from './start-tracing';
import { GuardedPropagator } from './webhook-propagation';

/** Probes and scrapes would drown the traces that matter. */
const UNTRACED_PATHS = new Set(['/health', '/health/ready', '/metrics']);

/**
 * A webhook's span names the callback URL without its query string, which may hold a partner's token.
 */
function callbackUrlAttributes(request: UndiciRequest): Record<string, string> {
  return { 'url.full': `${request.origin}${request.path.split('?')[0]}`, 'url.query': '' };
}

/**
 * NestJS 12 is newer than the range the maintained instrumentation declares (>=4 <12); its
 * NestFactory and RouterExecutionContext, which it wraps, are unchanged, so the range is widened to 12.
 */
class NestInstrumentationWithNest12 extends NestInstrumentation {
  override init() {
    const definition = super.init();
    for (const target of [definition, ...definition.files]) target.supportedVersions = ['>=4.0.0 <13'];
    return definition;
  }
}

/**
 * The SDK with the maintained instrumentations: http (the API's requests), undici (webhooks),
 * pg, ioredis, and NestJS (the handler that answered); BullMQ's own telemetry (bullmq-otel, see
 * @callbacks/queue) carries the context from the API's enqueue to the worker's job.
 * Exporter, protocol (http/protobuf or http/json), endpoint, headers and sampler come from OTEL_*.
 */
export function createTracing(serviceName: string): Tracing {
  // NestJS 12, @nestjs/bullmq and the BullMQ build they load are ES modules, which only an ESM
  // loader hook can instrument; require() hooks cover the CommonJS ones.
  if (supportsSyncHooks()) registerEsmHooks();
  const sdk = new NodeSDK({
    serviceName,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0]),
      }),
      new UndiciInstrumentation({ startSpanHook: callbackUrlAttributes }),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new NestInstrumentationWithNest12(),
    ],
    textMapPropagator: new GuardedPropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    ),
    // Traces only: metrics stay Prometheus (/metrics), logs stay JSON lines with trace ids.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
