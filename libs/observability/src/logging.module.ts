import { type DynamicModule, Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { trace } from '@opentelemetry/api';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from '@callbacks/config';
import { LOG_REDACTION, redactRequestSerializer } from './log-redaction';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** trace_id and span_id of the span in progress, on every line logged inside one (tracing on). */
function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** JSON logs (pino) with a request id (and, with tracing, trace and span ids) on every line; credentials and secrets are redacted. */
@Module({})
export class LoggingModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            redact: LOG_REDACTION,
            mixin: traceFields,
            serializers: { req: redactRequestSerializer },
            genReqId: (request: IncomingMessage, response: ServerResponse) => {
              const given = request.headers['x-request-id'];
              const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
              response.setHeader('x-request-id', id);
              return id;
            },
            customLogLevel: (_request, response, error) =>
              error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
            autoLogging: { ignore: (request) => request.url === '/health' || request.url === '/metrics' },
          },
        }),
      ],
    };
  }
}
