import { type DynamicModule, Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from '@callbacks/config';
import { LOG_REDACT_PATHS, redactRequestSerializer } from './log-redaction';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** JSON logs (pino) with a request id on every line; credentials and secrets are redacted. */
@Module({})
export class LoggingModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
            serializers: { req: redactRequestSerializer },
            genReqId: (request: IncomingMessage, response: ServerResponse) => {
              const given = request.headers['x-request-id'];
              const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
              response.setHeader('x-request-id', id);
              return id;
            },
            customLogLevel: (_request, response, error) => (error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info'),
            autoLogging: { ignore: (request) => request.url === '/health' || request.url === '/metrics' },
          },
        }),
      ],
    };
  }
}
