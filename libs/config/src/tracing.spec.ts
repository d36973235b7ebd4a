import { ConfigError, loadConfig } from './config';
import { tracingConfig } from './tracing';

describe('tracing configuration (standard OTEL_* variables)', () => {
  it('is off without an OTLP endpoint, whatever else is set', () => {
    expect(tracingConfig({}, 'partner-callbacks-api')).toEqual({ enabled: false, serviceName: 'partner-callbacks-api' });
    expect(
      tracingConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_TRACES_SAMPLER: 'always_on', OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }, 'x')
        .enabled,
    ).toBe(false);
  });

  it('is on with OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', () => {
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'x').enabled).toBe(true);
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, 'x').enabled).toBe(true);
  });

  it('stays off when the SDK or the traces exporter is switched off', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(tracingConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }, 'x').enabled).toBe(false);
    expect(tracingConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }, 'x').enabled).toBe(false);
  });

  it('names the service after the process unless OTEL_SERVICE_NAME says otherwise', () => {
    expect(tracingConfig({}, 'partner-callbacks-worker').serviceName).toBe('partner-callbacks-worker');
    expect(tracingConfig({ OTEL_SERVICE_NAME: 'callbacks-eu' }, 'partner-callbacks-worker').serviceName).toBe('callbacks-eu');
  });

  it('loadConfig: tracingEnabled, WEBHOOK_TRACEPARENT (default false) and a checked endpoint URL', () => {
    expect(loadConfig({}).config).toMatchObject({ tracingEnabled: false, webhookTraceparent: false });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', WEBHOOK_TRACEPARENT: 'true' }).config).toMatchObject({
      tracingEnabled: true,
      webhookTraceparent: true,
    });
    expect(loadConfig({ WEBHOOK_TRACEPARENT: 'true' }).warnings).toContainEqual(
      expect.stringContaining('WEBHOOK_TRACEPARENT=true has no effect'),
    );
    expect(() => loadConfig({ WEBHOOK_TRACEPARENT: 'yes' })).toThrow(
      new ConfigError('WEBHOOK_TRACEPARENT', 'expected "true" or "false", got "yes"'),
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(ConfigError);
  });
});
