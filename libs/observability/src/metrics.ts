import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DeliveryQueues, withTimeout } from '@callbacks/queue';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

/**
 * Every Prometheus metric of both apps, defined once. Labels stay bounded: notification type
 * names, outcomes and error kinds only, never partner ids or URLs.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly notificationsAccepted = new Counter({
    name: 'webhook_notifications_accepted_total',
    help: 'Notifications accepted with 202, by type, initial status (pending or skipped) and source (event or echo)',
    labelNames: ['type', 'status', 'source'] as const,
    registers: [this.registry],
  });

  readonly intakeRejected = new Counter({
    name: 'webhook_intake_rejected_total',
    help: 'Intake requests answered 503, by reason: queue_full (INTAKE_QUEUE_MAX or _BYTES) or timeout (INTAKE_TIMEOUT_MS)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly deliveries = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Delivery attempts by type and outcome: delivered, retry_scheduled, failed (for good) or skipped',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly attemptDuration = new Histogram({
    name: 'webhook_attempt_duration_seconds',
    help: 'Duration of one HTTP attempt, by type and result (2xx, 3xx, 4xx, 5xx or the error kind)',
    labelNames: ['type', 'result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
    registers: [this.registry],
  });

  readonly deliveryLatency = new Histogram({
    name: 'webhook_delivery_latency_seconds',
    help: 'From acceptance (the 202) to the attempt that delivered it, by type',
    labelNames: ['type'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300, 1800, 7200, 36000],
    registers: [this.registry],
  });

  readonly retriesScheduled = new Counter({
    name: 'webhook_retries_scheduled_total',
    help: 'Failed attempts that were rescheduled by the retry policy, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly deliveriesDeferred = new Counter({
    name: 'webhook_deliveries_deferred_total',
    help: 'Deliveries held back (not attempted) to isolate a callback: in_flight_cap, circuit_open or circuit_probing',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly circuitTransitions = new Counter({
    name: 'webhook_circuit_transitions_total',
    help: 'Callback circuits that opened (consecutive failures reached the threshold) or closed (a probe succeeded)',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly reconcilerRuns = new Counter({
    name: 'webhook_reconciler_runs_total',
    help: 'Reconciler passes, by result (ran, skipped_locked, error)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly reconcilerReenqueued = new Counter({
    name: 'webhook_reconciler_reenqueued_total',
    help: 'Pending notifications whose job was missing or failed and was given a job again',
    registers: [this.registry],
  });

  readonly callbacksDisabled = new Counter({
    name: 'webhook_callbacks_disabled_total',
    help: 'Callbacks disabled automatically after CALLBACK_DISABLE_AFTER of failed attempts',
    registers: [this.registry],
  });

  readonly callbacksRecovered = new Counter({
    name: 'webhook_callbacks_recovered_total',
    help: 'Callbacks whose first success came after their circuit had opened (callback.recovered)',
    registers: [this.registry],
  });

  readonly operatorEvents = new Counter({
    name: 'webhook_operator_events_total',
    help: 'Operator events by type and outcome: recorded, coalesced (counted into a waiting event), delivered, retry_scheduled or failed',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly recoveryRequests = new Counter({
    name: 'webhook_recovery_requests_total',
    help: 'Bulk recovery requests that started new delivery rounds, by scope (callback or partner)',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });

  readonly notificationsRecovered = new Counter({
    name: 'webhook_notifications_recovered_total',
    help: 'Notifications given a new delivery round by bulk recovery, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly retentionSweeps = new Counter({
    name: 'webhook_retention_sweeps_total',
    help: 'Retention sweeps, by result (ran, skipped_locked: another worker was sweeping, error)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly retentionDeleted = new Counter({
    name: 'webhook_retention_deleted_total',
    help: 'Rows deleted by the retention sweep, by kind (notifications, attempts, idempotency_keys, operator_events, audit_entries)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly operatorEventReconcilerRuns = new Counter({
    name: 'webhook_operator_event_reconciler_runs_total',
    help: 'Operator-event reconciler passes, by result (ran, skipped_locked, error)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor(queues: DeliveryQueues) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'webhook_queue_jobs',
      help: 'Delivery jobs in the queues (all shards) by state (read from Redis at scrape time)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await withTimeout(
          Promise.all(queues.all.map((queue) => queue.getJobCounts(...QUEUE_STATES))),
          2_000,
          'reading queue depth',
        ).catch(() => null);
        if (counts)
          for (const state of QUEUE_STATES)
            this.set(
              { state },
              counts.reduce((sum, shard) => sum + (shard[state] ?? 0), 0),
            );
      },
    });
  }
}
