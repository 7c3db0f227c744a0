/** Prometheus metrics, one registry per app instance (tests run several in one process). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  /** Counted at scrape time from the database (bound once the models exist). */
  let countOverdue: (() => Promise<number>) | undefined;
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    slackRequests: new Counter({
      name: 'slack_requests_total',
      help: 'Slack requests handled, by kind (command, action, view_submission, event, options)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    ackLatency: new Histogram({
      name: 'slack_ack_latency_seconds',
      help: 'Time from receiving a Slack request to acknowledging it',
      labelNames: ['kind'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    ticketsCreated: new Counter({
      name: 'tickets_created_total',
      help: 'Tickets created, by source (slack, email) and kind',
      labelNames: ['source', 'kind'] as const,
      registers: [registry],
    }),
    outboxBacklog: new Gauge({
      name: 'outbox_backlog',
      help: 'Outbox messages waiting for delivery, by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    slaBreached: new Counter({
      name: 'tickets_sla_breached_total',
      help: 'SLA targets missed, by ticket kind and target (firstResponse, resolution); once per ticket and target',
      labelNames: ['kind', 'target'] as const,
      registers: [registry],
    }),
    slaOverdue: new Gauge({
      name: 'tickets_sla_overdue',
      help: 'Open tickets past a running SLA target (not paused)',
      registers: [registry],
      async collect() {
        if (countOverdue) this.set(await countOverdue());
      },
    }),
    /** Sets how the overdue gauge is counted when scraped. */
    countOverdueWith(count: () => Promise<number>) {
      countOverdue = count;
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
