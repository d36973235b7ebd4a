// Loaded first by each app's tracing.ts, before anything it instruments: keep this entry light
// (the OpenTelemetry API only); the SDK and the instrumentations load only when tracing is on.
export * from './start-tracing';
export * from './webhook-propagation';
export * from './in-span';
