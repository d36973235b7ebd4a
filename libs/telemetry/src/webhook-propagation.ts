import {
  type Context,
  context,
  createContextKey,
  type TextMapPropagator,
  type TextMapSetter,
  type TextMapGetter,
} from '@opentelemetry/api';

const NO_PROPAGATION = createContextKey('partner-callbacks: do not propagate trace context');

/**
 * Runs `send` so that the outgoing request it makes carries no trace context (no traceparent).
 * Webhooks go to partners, and a traceparent tells them about our traces: it is opt-in
 * (WEBHOOK_TRACEPARENT). The undici instrumentation still records the request's span.
 * Without tracing this is a plain call.
 */
export function withoutTracePropagation<T>(send: () => T): T {
  return context.with(context.active().setValue(NO_PROPAGATION, true), send);
}

/** Wraps the process's propagator: injects nothing inside withoutTracePropagation, and otherwise delegates. */
export class GuardedPropagator implements TextMapPropagator {
  constructor(private readonly inner: TextMapPropagator) {}

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    if (ctx.getValue(NO_PROPAGATION) === true) return;
    this.inner.inject(ctx, carrier, setter);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    return this.inner.extract(ctx, carrier, getter);
  }

  fields(): string[] {
    return this.inner.fields();
  }
}
