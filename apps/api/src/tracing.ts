// main.ts imports this first: tracing must start before the modules it instruments are loaded.
import { startTracing } from '@callbacks/telemetry';

export const tracing = startTracing('partner-callbacks-api');
