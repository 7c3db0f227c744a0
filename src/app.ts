/**
 * Composition root: builds every part from a Config and starts them, in this order: the core
 * (database, clock, outbox, due work, billing, services, mail processing), then the jobs
 * (jobs/index.ts), then the adapters (HTTP, SMTP, scheduler, IMAP, Slack). Nothing is bound later.
 * main.ts runs it as a process; tests run it in-process (several at once when they play several
 * bot processes).
 */
import type http from 'node:http';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/connection.js';
import type { Logger } from './logger.js';
import { systemClock, type Clock } from './clock.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createOutboxWorker, type Deliverer, type OutboxWorker } from './jobs/outbox.js';
import { createScheduler, type Scheduler } from './jobs/scheduler.js';
import { createDueWork, type DueWork } from './jobs/due-work.js';
import { duePorts, registerJobs, type Jobs } from './jobs/index.js';
import { createRetentionJob, type RetentionJob } from './jobs/retention.js';
import { createBilling } from './billing/index.js';
import { createOutbox } from './services/outbox.js';
import { createServices, type Services } from './services/index.js';
import type { PlanJobs } from './services/ports.js';
import { seedRoles } from './services/roles.js';
import { loadAppKey } from './services/app-key.js';
import { createSlackApp, type SlackApp } from './slack/app.js';
import { createDeliveryClient, createSlackDeliverer } from './slack/notifier.js';
import { createHttpServer, listen } from './http/server.js';
import { createLanes, type Lanes } from './lanes.js';
import { createInboundStore } from './mail/inbound-store.js';
import { createMailQueue } from './mail/mail-queue.js';
import { rawStore } from './mail/raw-store.js';
import { createMailIngest, type MailIngest } from './mail/ingest.js';
import { createEmailDeliverer, createMailer } from './mail/mailer.js';
import { createSmtpListener } from './mail/smtp-listener.js';
import { createImapIngestors } from './mail/imap-jobs.js';
import { createPayments } from './payments/index.js';
import { linkKey } from './domain/migration-link.js';
import { deriveKey } from './domain/signing.js';
import { createWebApp, type WebDeps } from './web/app.js';
import { readFileSync } from 'node:fs';
import { loadSlaRules, type SlaRules } from './domain/sla-policy.js';
import { createSla } from './services/sla.js';
import { countOverdue } from './services/sla-stats.js';
import { createCsat } from './services/csat.js';
import { csatPages } from './web/csat-page.js';

export interface RunningApp {
  config: Config;
  port: number;
  clock: Clock;
  db: Database;
  services: Services;
  scheduler: Scheduler;
  outboxWorker: OutboxWorker;
  /** The C4S cancellation's due handler (scheduled by billing, run by any process); its work is `services.migrations.cancelC4s`. */
  migrationCancel: Jobs['migrationCancel'];
  /** Scheduled plan changes (due rows of kind `plan`); their work is `services.plans.apply`. */
  planJobs: PlanJobs;
  /** Everything that falls due at a time, and this process's runner for it. */
  due: DueWork;
  /** The daily deletion of what is past its retention. */
  retention: RetentionJob;
  /** The service-level policies in force (business hours in TZ_BILLING, targets, ladder). */
  slaRules: SlaRules;
  metrics: Metrics;
  /** This process's in-process work: mail processing, bulk and interactive deliveries. */
  lanes: Lanes;
  slack: SlackApp | undefined;
  mail: MailIngest;
  smtpPort: number;
  imap: ReturnType<typeof createImapIngestors>;
  stop(): Promise<void>;
}

/** Mail over this size is large: it is processed within MAIL_BUDGET_BYTES of large mail at once. */
const MAIL_LARGE_BYTES = 1024 * 1024;
/** Two messages near the 25 MB default limit at once, or many smaller ones. */
const MAIL_BUDGET_BYTES = 64 * 1024 * 1024;

export interface StartOptions {
  /** Distinguishes scheduler processes in job locks (tests run two in one process). */
  instanceName?: string;
  defaultMetrics?: boolean;
  /** The app's time (tests set it near a job's due time; the scheduler follows it). */
  clock?: Clock;
  /** Routes added beside the customer's pages, under the same plugins (the page bench's static "hello"). */
  webRoutes?: WebDeps['extraRoutes'];
  /**
   * The behaviour before issue 9 (items 5 and 9), for the benches' before/after figures; never set
   * in production. `sharedQueue`: mail processing and every delivery share one queue of four.
   * `blindRepeats`: a repeated Slack post does not look for its earlier copy, and a call whose
   * outcome is unknown is retried on the plain back-off.
   */
  legacy?: { sharedQueue?: boolean; blindRepeats?: boolean };
  /**
   * false: the daily retention row is not written (its handler is still registered). For tests,
   * which move the clock years ahead and would otherwise see their closed tickets go.
   */
  scheduleRetention?: boolean;
}

export async function startApp(config: Config, log: Logger, opts: StartOptions = {}): Promise<RunningApp> {
  const clock = opts.clock ?? systemClock;
  const now = () => clock.now();
  const db = await openDatabase(config, log);
  const cleanups: (() => Promise<void>)[] = [() => db.close()];
  const stop = async () => {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((err: Error) =>
        log.warn({ event: 'app.stop_error', err: err.message }, 'error while stopping'),
      );
  };
  try {
    // The core: database, clock, outbox, due work, billing, services; nothing runs yet.
    const { models } = db;
    // A bad policy file stops the start, like a bad variable.
    const slaRules = loadSlaRules(
      config.billing.timeZone,
      config.sla.policyFile ? (JSON.parse(readFileSync(config.sla.policyFile, 'utf8')) as unknown) : undefined,
    );
    const seeded = await seedRoles(models, config.roles);
    const appKey = await loadAppKey(models, config.appSecret, clock.now());
    const metrics = createMetrics({ defaultMetrics: opts.defaultMetrics ?? false });
    const scheduler = createScheduler(db.conn.db!, log, {
      processEveryMs: config.jobs.processEveryMs,
      clock,
      ...(opts.instanceName ? { name: opts.instanceName } : {}),
    });

    const mailer = createMailer({ smtpUrl: config.mail.smtpUrl, outboxDir: config.mail.outboxDir, log });
    cleanups.push(() => mailer.close());
    const deliverers: Partial<Record<'slack' | 'email', Deliverer>> = { email: createEmailDeliverer(mailer) };
    if (config.slack.enabled) {
      const client = createDeliveryClient({ token: config.slack.botToken, apiUrl: config.slack.apiUrl, log });
      deliverers.slack = createSlackDeliverer({
        client,
        models,
        channels: config.slack.channels,
        escalationChannel: config.slack.escalationChannel,
        timeZone: config.billing.timeZone,
        now,
        log,
        lookBeforeRepeat: opts.legacy?.blindRepeats !== true,
      });
    } else {
      log.info(
        { event: 'slack.off', reason: config.slack.reason },
        'Slack off: Slack posts are kept in the outbox until Slack is configured',
      );
    }
    // New work starts at once in this process, in its lane (see lanes.ts); the jobs retry and sweep.
    const lanes = createLanes(log, { shared: opts.legacy?.sharedQueue === true });
    const outboxWorker = createOutboxWorker({
      models,
      scheduler,
      deliverers,
      lanes,
      log,
      metrics,
      now,
      settleAfterUnknown: opts.legacy?.blindRepeats !== true,
    });
    const outbox = createOutbox(models, outboxWorker.deliverSoon, new Set(Object.keys(deliverers)), now);
    const due = createDueWork({
      models,
      scheduler,
      log,
      clock,
      concurrency: config.jobs.dueConcurrency,
      processName: opts.instanceName ?? `bot-${process.pid}`,
    });
    const scheduling = duePorts(due);
    const sla = createSla({
      models,
      outbox,
      due,
      rules: slaRules,
      assign: config.sla.assign,
      timeZone: config.billing.timeZone,
      log,
      metrics,
      now,
    });
    metrics.countOverdueWith(() => countOverdue(models, now()));
    // Where customers reach the bot's pages: PUBLIC_URL, else (Slack off, so no migration links)
    // the local address, known once the server listens.
    const publicUrl = config.web.publicUrl;
    let pagesUrl = publicUrl ?? '';
    const csat = createCsat({
      models,
      outbox,
      domain: config.mail.domain,
      appKey,
      now,
      log,
      csat: config.sla.csat,
      publicUrl: () => pagesUrl,
    });
    const plans = {
      billing: createBilling(config.billing, models, log, now),
      jobs: scheduling.plans,
      processName: opts.instanceName,
    };
    const payments = createPayments(config.payments);
    const links = publicUrl ? { publicUrl, ttlDays: config.web.linkTtlDays, key: linkKey(appKey) } : undefined;
    const services = createServices({
      models,
      outbox,
      log,
      metrics,
      domain: config.mail.domain,
      appKey,
      timeZone: config.billing.timeZone,
      migrationJobs: scheduling.migrations,
      plans,
      now,
      page: { links, payments },
      sla,
      assign: config.sla.assign,
      slaRules,
      csat: config.sla.csat,
      csatHooks: csat,
    });
    // Retention is a due kind of its own beside registerJobs' (it needs the models and the policy, not a service).
    const retention = createRetentionJob({ models, due, clock, policy: config.retention, log });

    // Stored mail becomes tickets and replies; SMTP and IMAP (below) store it.
    const raw = rawStore(models);
    const mail = createMailIngest({
      config,
      models,
      raw,
      outbox,
      lane: lanes.mail,
      log,
      now,
      tickets: { models, outbox, log, metrics, now, sla, assign: config.sla.assign },
      appKey,
      onReply: (ref, reply) => services.migrations.projectsFromReply(ref, reply),
    });
    // Stored mail is processed in the mail lane (lanes.ts), which gives way to people. Large
    // messages wait for room in a byte budget instead (mail-queue.ts): a burst of them is parsed a
    // couple at a time, so parsing's memory stays bounded, and small mail does not queue behind them.
    const largeMail = createMailQueue({ concurrency: 2, largeBytes: MAIL_LARGE_BYTES, budgetBytes: MAIL_BUDGET_BYTES });
    const processSoon = (id: string, size: number): void => {
      if (size <= MAIL_LARGE_BYTES) return void mail.processSoon(id);
      void largeMail
        .run(size, () => mail.process(id))
        .catch((err: Error) =>
          log.warn({ event: 'mail.deferred', err: err.message }, 'will be retried by its sweep job'),
        );
    };
    const inbound = createInboundStore({ models, raw, onStored: processSoon });

    // Jobs: every job and kind of due work, each calling a service (jobs/index.ts).
    const jobs = registerJobs(scheduler, due, services, {
      outbox: outboxWorker,
      mail,
      planConcurrency: config.jobs.planConcurrency,
    });

    // Adapters, started: HTTP (Slack's endpoint, health, metrics), SMTP, the scheduler and due
    // runner, then IMAP and Slack.
    const imap = createImapIngestors({
      config,
      models,
      inbound,
      scheduler,
      log,
      ...(opts.instanceName ? { holder: opts.instanceName } : {}),
    });
    const slack = config.slack.enabled
      ? createSlackApp({ config: config.slack, deps: { services, log }, models, log, metrics })
      : undefined;
    const web = links
      ? await createWebApp({
          page: services.migrationPage,
          payments,
          log,
          publicUrl,
          rateLimitPerMinute: config.web.rateLimitPerMinute,
          trustedProxies: config.web.trustedProxies,
          csrfKey: deriveKey(appKey, 'migration-csrf'),
          extraRoutes: opts.webRoutes,
        })
      : undefined;
    if (web) cleanups.push(() => web.close());
    const server: http.Server = createHttpServer({
      slackListener: slack?.requestListener,
      web,
      ping: db.ping,
      backlog: outboxWorker.backlog,
      metrics,
      log,
      customerPages: csatPages({ answer: (path) => csat.answer(path), log }),
    });
    const port = await listen(server, config.http.port, config.http.host);
    pagesUrl ||= `http://${config.http.host === '0.0.0.0' ? 'localhost' : config.http.host}:${port}`;
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );

    const smtp = createSmtpListener({ ...config.mail.inbound, domain: config.mail.domain, store: inbound.store, log });
    const smtpPort = await smtp.listen();
    cleanups.push(() => smtp.close());

    await scheduler.start();
    cleanups.push(() => scheduler.stop());
    await jobs.startSweeps();
    await due.start();
    cleanups.push(() => due.stop());
    if (opts.scheduleRetention !== false) await retention.start();
    if (config.billing.accountsSeedFile) {
      const seededAccounts = await services.accounts.seed(config.billing.accountsSeedFile);
      log.info(
        { event: 'accounts.seeded', file: config.billing.accountsSeedFile, created: seededAccounts },
        'accounts seeded',
      );
    }
    // Whatever an earlier run left unfinished is taken up now, not at the next sweep.
    void mail
      .sweep(0)
      .catch((err: Error) =>
        log.warn({ event: 'mail.sweep_failed', err: err.message }, 'the sweep job will try again'),
      );
    void outboxWorker
      .sweep(0)
      .catch((err: Error) =>
        log.warn({ event: 'outbox.sweep_failed', err: err.message }, 'the sweep job will try again'),
      );
    await imap.start();
    cleanups.push(() => imap.stop());
    if (slack) {
      await slack.start();
      cleanups.push(() => slack.stop());
    }
    log.info(
      {
        event: 'app.started',
        port,
        smtpPort,
        engine: db.engine,
        slack: config.slack.enabled ? config.slack.mode : 'off',
        rolesSeeded: seeded,
        migrationPage: web ? 'on' : 'off (PUBLIC_URL unset)',
        payments: payments.adapter,
      },
      `listening on port ${port}`,
    );
    return {
      config,
      port,
      clock,
      db,
      services,
      scheduler,
      outboxWorker,
      migrationCancel: jobs.migrationCancel,
      planJobs: scheduling.plans,
      due,
      retention,
      slaRules,
      metrics,
      lanes,
      slack,
      mail,
      smtpPort,
      imap,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
