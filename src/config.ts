/**
 * The one place that reads the environment. Every variable of CONTRACT.md ("Running it") is
 * parsed here into a typed, nested Config; everything else receives a Config.
 */
import path from 'node:path';
import { z } from 'zod';

export const TEAMS = ['sales', 'billing', 'support'] as const;
export type Team = (typeof TEAMS)[number];
export const MAILBOXES = ['billing', 'sales', 'support', 'selfserve'] as const;
export type Mailbox = (typeof MAILBOXES)[number];
export type Role = Team | 'admin';

/**
 * The embedded engines. `ferretdb` is the old name of `ferretdb-sqlite` (it was the only FerretDB
 * engine) and `postgres` is short for `ferretdb-postgres`; both keep working.
 */
export const EMBEDDED_ENGINES = ['mongodb', 'ferretdb-postgres', 'ferretdb-sqlite'] as const;
export type EmbeddedEngine = (typeof EMBEDDED_ENGINES)[number];
export type EmbeddedChoice = 'auto' | EmbeddedEngine;
const EMBEDDED_ALIASES: Record<string, EmbeddedChoice> = { ferretdb: 'ferretdb-sqlite', postgres: 'ferretdb-postgres' };
export const EMBEDDED_NAMES = ['auto', ...EMBEDDED_ENGINES, ...Object.keys(EMBEDDED_ALIASES)] as const;

/** An EMBEDDED_DB value as the engine it names, or undefined when it names none. */
export function embeddedChoice(value: string | undefined): EmbeddedChoice | undefined {
  const name = (value ?? '').trim() || 'auto';
  if (name in EMBEDDED_ALIASES) return EMBEDDED_ALIASES[name];
  return (['auto', ...EMBEDDED_ENGINES] as string[]).includes(name) ? (name as EmbeddedChoice) : undefined;
}

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(blankToUndefined, z.string().optional());
const optionalUrl = (protocols: string[]) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .refine(
        (v) => {
          try {
            return protocols.includes(new URL(v).protocol);
          } catch {
            return false;
          }
        },
        `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
      )
      .optional(),
  );
const port = (fallback: number) =>
  z.preprocess(blankToUndefined, z.coerce.number().int().min(0).max(65535).default(fallback));
const userIds = z.preprocess(
  blankToUndefined,
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .refine(
      (ids) => ids.every((id) => /^[UW][A-Z0-9]{2,}$/.test(id)),
      'must be Slack user IDs (U…/W…) separated by commas',
    ),
);
const timeZone = z.preprocess(
  blankToUndefined,
  z
    .string()
    .default('UTC')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Europe/Berlin'),
);
const positiveInt = (fallback: number) =>
  z.preprocess(blankToUndefined, z.coerce.number().int().positive().default(fallback));

/** How a team's new tickets get an owner: claimed by hand (`off`), or `round-robin` over the team's members. */
const assignment = z.preprocess(blankToUndefined, z.enum(['off', 'round-robin']).default('off'));
const onOff = z.preprocess(
  blankToUndefined,
  z
    .enum(['on', 'off'])
    .default('off')
    .transform((v) => v === 'on'),
);

const envSchema = z.object({
  MONGODB_URI: optionalUrl(['mongodb:', 'mongodb+srv:']),
  DATA_DIR: z.preprocess(blankToUndefined, z.string().default('./.data')),
  EMBEDDED_DB: z.preprocess(
    blankToUndefined,
    z
      .string()
      .default('auto')
      .refine((v) => embeddedChoice(v) !== undefined, `must be one of ${EMBEDDED_NAMES.join(', ')}`)
      .transform((v) => embeddedChoice(v)!),
  ),
  PORT: port(3000),
  HTTP_HOST: z.preprocess(blankToUndefined, z.string().default('0.0.0.0')),
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_BOT_TOKEN: z.preprocess(
    blankToUndefined,
    z.string().startsWith('xoxb-', 'must be a bot token (xoxb-…)').optional(),
  ),
  SLACK_APP_TOKEN: z.preprocess(
    blankToUndefined,
    z.string().startsWith('xapp-', 'must be an app-level token (xapp-…)').optional(),
  ),
  SLACK_API_URL: optionalUrl(['http:', 'https:']),
  SLACK_CHANNEL_SALES: optionalString,
  SLACK_CHANNEL_BILLING: optionalString,
  SLACK_CHANNEL_SUPPORT: optionalString,
  SLACK_CHANNEL_ESCALATION: optionalString,
  ROLE_SALES: userIds,
  ROLE_BILLING: userIds,
  ROLE_SUPPORT: userIds,
  ROLE_ADMIN: userIds,
  MAIL_DOMAIN: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i, 'must be a domain such as example.com')
      .default('example.com'),
  ),
  SMTP_INBOUND_PORT: port(2525),
  SMTP_INBOUND_HOST: z.preprocess(blankToUndefined, z.string().default('127.0.0.1')),
  SMTP_INBOUND_MAX_BYTES: positiveInt(25 * 1024 * 1024),
  // Each session may hold a piece of a message in memory; past this many at once, 421.
  SMTP_INBOUND_MAX_CLIENTS: positiveInt(32),
  IMAP_URL_BILLING: optionalUrl(['imap:', 'imaps:']),
  IMAP_URL_SALES: optionalUrl(['imap:', 'imaps:']),
  IMAP_URL_SUPPORT: optionalUrl(['imap:', 'imaps:']),
  IMAP_URL_SELFSERVE: optionalUrl(['imap:', 'imaps:']),
  SMTP_URL: optionalUrl(['smtp:', 'smtps:']),
  TZ_BILLING: timeZone,
  BILLING_WEBHOOK_URL: optionalUrl(['http:', 'https:']),
  BILLING_WEBHOOK_SECRET: optionalString,
  ACCOUNTS_SEED_FILE: optionalString,
  APP_SECRET: z.preprocess(blankToUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  LOG_LEVEL: z.preprocess(blankToUndefined, z.enum(['debug', 'info', 'warn', 'error']).default('info')),
  JOBS_PROCESS_EVERY_MS: positiveInt(5000),
  JOBS_PLAN_CONCURRENCY: positiveInt(5),
  JOBS_DUE_CONCURRENCY: positiveInt(8),
  RETENTION_OPERATIONAL_DAYS: positiveInt(30),
  // Three years: the retention the account documents promise.
  RETENTION_DAYS: positiveInt(1095),
  PUBLIC_URL: optionalUrl(['http:', 'https:']),
  MIGRATION_LINK_TTL_DAYS: positiveInt(30),
  WEB_RATE_LIMIT_PER_MINUTE: positiveInt(120),
  WEB_TRUSTED_PROXIES: z.preprocess(blankToUndefined, z.coerce.number().int().min(0).max(10).default(0)),
  STRIPE_SECRET_KEY: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret key (sk_test_…, sk_live_…)')
      .optional(),
  ),
  STRIPE_WEBHOOK_SECRET: z.preprocess(
    blankToUndefined,
    z.string().startsWith('whsec_', 'must be a webhook signing secret (whsec_…)').optional(),
  ),
  STRIPE_API_URL: optionalUrl(['http:', 'https:']),
  SLA_POLICY_FILE: optionalString,
  ASSIGN_SALES: assignment,
  ASSIGN_BILLING: assignment,
  ASSIGN_SUPPORT: assignment,
  CSAT_SALES: onOff,
  CSAT_BILLING: onOff,
  CSAT_SUPPORT: onOff,
});

type Env = z.infer<typeof envSchema>;

export type SlackConfig =
  | { enabled: false; reason: string }
  | {
      enabled: true;
      mode: 'http' | 'socket';
      botToken: string;
      signingSecret: string | undefined;
      appToken: string | undefined;
      apiUrl: string | undefined;
      channels: Record<Team, string>;
      /** Where SLA breaches are posted; unset, each ticket's team channel. */
      escalationChannel: string | undefined;
    };

export interface Config {
  dataDir: string;
  db: { uri: string | undefined; embedded: EmbeddedChoice };
  http: { port: number; host: string };
  slack: SlackConfig;
  roles: Record<Role, string[]>;
  mail: {
    domain: string;
    /** maxClients: concurrent SMTP sessions; past it a new one is answered 421. */
    inbound: { host: string; port: number; maxBytes: number; maxClients: number };
    imap: Partial<Record<Mailbox, string>>;
    smtpUrl: string | undefined;
    outboxDir: string;
  };
  billing: {
    timeZone: string;
    webhookUrl: string | undefined;
    webhookSecret: string | undefined;
    accountsSeedFile: string | undefined;
  };
  /**
   * dueConcurrency: due rows (plan changes, the C4S cancellation…) one process runs at once.
   * planConcurrency: the same for `plan.apply` Agenda jobs left in a database by earlier versions.
   */
  jobs: { processEveryMs: number; planConcurrency: number; dueConcurrency: number };
  /**
   * operationalDays: claims, Slack event records, delivered outbox rows, ack slots, leases.
   * customerDays: closed tickets and their mail, from their last activity.
   */
  retention: { operationalDays: number; customerDays: number };
  /**
   * Service levels: the policy file (unset: the bundled src/domain/sla-policies.json), how each
   * team's new tickets get an owner, and which teams ask closed tickets' customers for a score.
   */
  sla: { policyFile: string | undefined; assign: Record<Team, 'off' | 'round-robin'>; csat: Record<Team, boolean> };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Signs reply addresses and migration links; unset, a key kept in the database is used. */
  appSecret: string | undefined;
  /**
   * The customer's pages. `publicUrl` (PUBLIC_URL, no trailing slash) is where customers reach this
   * server; without it migration emails carry no link. `rateLimitPerMinute` applies per link and per
   * client address.
   */
  /**
   * `trustedProxies`: how many proxies in front of this server append to X-Forwarded-For (0: none,
   * the socket's address is the client's). Behind a load balancer, without it every customer would
   * share the proxy's address and its rate limit.
   */
  web: { publicUrl: string | undefined; linkTtlDays: number; rateLimitPerMinute: number; trustedProxies: number };
  /** Card payments: `stripe` when STRIPE_SECRET_KEY is set, else billing records payments by hand. */
  payments:
    { adapter: 'manual' } | { adapter: 'stripe'; secretKey: string; webhookSecret: string; apiUrl: string | undefined };
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

function slackConfig(env: Env, problems: string[]): SlackConfig {
  const { SLACK_BOT_TOKEN: botToken, SLACK_SIGNING_SECRET: signingSecret, SLACK_APP_TOKEN: appToken } = env;
  if (!botToken && !signingSecret && !appToken) {
    return { enabled: false, reason: 'SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set' };
  }
  if (!botToken) problems.push('SLACK_BOT_TOKEN: required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set');
  if (!appToken && !signingSecret)
    problems.push(
      'SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set (or set SLACK_APP_TOKEN for Socket Mode)',
    );
  if (env.SLACK_CHANNEL_ESCALATION && !/^[CG][A-Z0-9]{2,}$/.test(env.SLACK_CHANNEL_ESCALATION))
    problems.push('SLACK_CHANNEL_ESCALATION: must be a channel ID such as C0123456789');
  const channels: Partial<Record<Team, string>> = {};
  for (const team of TEAMS) {
    const name = `SLACK_CHANNEL_${team.toUpperCase() as Uppercase<Team>}` as const;
    const value = env[name];
    if (!value) problems.push(`${name}: required when Slack is on (a channel ID such as C0123456789)`);
    else if (!/^[CG][A-Z0-9]{2,}$/.test(value)) problems.push(`${name}: must be a channel ID such as C0123456789`);
    else channels[team] = value;
  }
  return {
    enabled: true,
    mode: appToken ? 'socket' : 'http',
    botToken: botToken ?? '',
    signingSecret,
    appToken,
    apiUrl: env.SLACK_API_URL,
    channels: channels as Record<Team, string>,
    escalationChannel: env.SLACK_CHANNEL_ESCALATION,
  };
}

/** Parses an environment (by default the process's) into a Config, or lists every problem. */
export function loadConfig(source: Record<string, string | undefined> = process.env): ConfigResult {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`);
    return { ok: false, problems };
  }
  const env = parsed.data;
  const problems: string[] = [];
  const slack = slackConfig(env, problems);
  if (env.BILLING_WEBHOOK_URL && !env.BILLING_WEBHOOK_SECRET) {
    problems.push('BILLING_WEBHOOK_SECRET: required when BILLING_WEBHOOK_URL is set (events are signed)');
  }
  if (slack.enabled && !env.PUBLIC_URL) {
    problems.push(
      'PUBLIC_URL: required when Slack is on (the address customers open migration links at, such as https://bot.example.com)',
    );
  }
  if (env.STRIPE_SECRET_KEY && !env.STRIPE_WEBHOOK_SECRET) {
    problems.push(
      'STRIPE_WEBHOOK_SECRET: required when STRIPE_SECRET_KEY is set (payment results arrive as signed webhooks)',
    );
  }
  if (env.STRIPE_SECRET_KEY && !env.PUBLIC_URL) {
    problems.push('PUBLIC_URL: required when STRIPE_SECRET_KEY is set (Checkout sends the customer back there)');
  }
  if (problems.length > 0) return { ok: false, problems };

  const dataDir = path.resolve(env.DATA_DIR);
  const imap: Partial<Record<Mailbox, string>> = {};
  for (const mailbox of MAILBOXES) {
    const url = env[`IMAP_URL_${mailbox.toUpperCase()}` as `IMAP_URL_${Uppercase<Mailbox>}`];
    if (url) imap[mailbox] = url;
  }
  return {
    ok: true,
    config: {
      dataDir,
      db: { uri: env.MONGODB_URI, embedded: env.EMBEDDED_DB },
      http: { port: env.PORT, host: env.HTTP_HOST },
      slack,
      roles: { sales: env.ROLE_SALES, billing: env.ROLE_BILLING, support: env.ROLE_SUPPORT, admin: env.ROLE_ADMIN },
      mail: {
        domain: env.MAIL_DOMAIN.toLowerCase(),
        inbound: {
          host: env.SMTP_INBOUND_HOST,
          port: env.SMTP_INBOUND_PORT,
          maxBytes: env.SMTP_INBOUND_MAX_BYTES,
          maxClients: env.SMTP_INBOUND_MAX_CLIENTS,
        },
        imap,
        smtpUrl: env.SMTP_URL,
        outboxDir: path.join(dataDir, 'outbox'),
      },
      billing: {
        timeZone: env.TZ_BILLING,
        webhookUrl: env.BILLING_WEBHOOK_URL,
        webhookSecret: env.BILLING_WEBHOOK_SECRET,
        accountsSeedFile: env.ACCOUNTS_SEED_FILE ? path.resolve(env.ACCOUNTS_SEED_FILE) : undefined,
      },
      jobs: {
        processEveryMs: env.JOBS_PROCESS_EVERY_MS,
        planConcurrency: env.JOBS_PLAN_CONCURRENCY,
        dueConcurrency: env.JOBS_DUE_CONCURRENCY,
      },
      retention: { operationalDays: env.RETENTION_OPERATIONAL_DAYS, customerDays: env.RETENTION_DAYS },
      sla: {
        policyFile: env.SLA_POLICY_FILE ? path.resolve(env.SLA_POLICY_FILE) : undefined,
        assign: { sales: env.ASSIGN_SALES, billing: env.ASSIGN_BILLING, support: env.ASSIGN_SUPPORT },
        csat: { sales: env.CSAT_SALES, billing: env.CSAT_BILLING, support: env.CSAT_SUPPORT },
      },
      logLevel: env.LOG_LEVEL,
      appSecret: env.APP_SECRET,
      web: {
        publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ''),
        linkTtlDays: env.MIGRATION_LINK_TTL_DAYS,
        rateLimitPerMinute: env.WEB_RATE_LIMIT_PER_MINUTE,
        trustedProxies: env.WEB_TRUSTED_PROXIES,
      },
      payments:
        env.STRIPE_SECRET_KEY && env.STRIPE_WEBHOOK_SECRET
          ? {
              adapter: 'stripe',
              secretKey: env.STRIPE_SECRET_KEY,
              webhookSecret: env.STRIPE_WEBHOOK_SECRET,
              apiUrl: env.STRIPE_API_URL,
            }
          : { adapter: 'manual' },
    },
  };
}
