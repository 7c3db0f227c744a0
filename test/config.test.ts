/** Configuration: defaults, Slack on/off, and one line per problem naming the variable. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('when nothing is set, then it boots with the documented defaults and Slack off', () => {
    const r = loadConfig({});
    if (!r.ok) throw new Error(r.problems.join('; '));
    expect(r.config.http.port).toBe(3000);
    expect(r.config.mail.domain).toBe('example.com');
    expect(r.config.mail.inbound).toMatchObject({
      host: '127.0.0.1',
      port: 2525,
      maxBytes: 25 * 1024 * 1024,
      maxClients: 32,
    });
    expect(r.config.billing.timeZone).toBe('UTC');
    expect(r.config.db.uri).toBeUndefined();
    expect(r.config.dataDir.endsWith('.data')).toBe(true);
    expect(r.config.slack.enabled).toBe(false);
    expect(r.config.logLevel).toBe('info');
    expect(r.config.jobs).toEqual({ processEveryMs: 5000, planConcurrency: 5, dueConcurrency: 8 });
  });

  it('when Slack credentials and channels are set, then Slack is on over HTTP with roles parsed', () => {
    const r = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: 's',
      SLACK_CHANNEL_SALES: 'C01',
      SLACK_CHANNEL_BILLING: 'C02',
      SLACK_CHANNEL_SUPPORT: 'C03',
      ROLE_BILLING: 'U0001, U0002',
      PUBLIC_URL: 'https://bot.example.com/',
    });
    if (!r.ok) throw new Error(r.problems.join('; '));
    expect(r.config.slack).toMatchObject({
      enabled: true,
      mode: 'http',
      channels: { sales: 'C01', billing: 'C02', support: 'C03' },
    });
    expect(r.config.roles.billing).toEqual(['U0001', 'U0002']);
  });

  it('when SLACK_APP_TOKEN is set, then Slack uses Socket Mode', () => {
    const r = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_APP_TOKEN: 'xapp-1',
      SLACK_CHANNEL_SALES: 'C01',
      SLACK_CHANNEL_BILLING: 'C02',
      SLACK_CHANNEL_SUPPORT: 'C03',
      PUBLIC_URL: 'https://bot.example.com',
    });
    expect(r.ok && r.config.slack.enabled && r.config.slack.mode).toBe('socket');
  });

  it('when Slack is on without PUBLIC_URL, then PUBLIC_URL is named: migration emails must carry a link that works', () => {
    const r = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: 's',
      SLACK_CHANNEL_SALES: 'C01',
      SLACK_CHANNEL_BILLING: 'C02',
      SLACK_CHANNEL_SUPPORT: 'C03',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.split(':')[0])).toEqual(['PUBLIC_URL']);
  });

  it('when the page and Stripe are configured, then links, limits and the Stripe adapter are read; half of Stripe names what is missing', () => {
    const base = {
      PUBLIC_URL: 'https://bot.example.com/',
      STRIPE_SECRET_KEY: 'sk_test_abc123',
      STRIPE_WEBHOOK_SECRET: 'whsec_abc',
      STRIPE_API_URL: 'http://127.0.0.1:12111',
    };
    const r = loadConfig(base);
    if (!r.ok) throw new Error(r.problems.join('; '));
    expect(r.config.web).toEqual({
      publicUrl: 'https://bot.example.com',
      linkTtlDays: 30,
      rateLimitPerMinute: 120,
      trustedProxies: 0,
    });
    const proxied = loadConfig({ ...base, WEB_TRUSTED_PROXIES: '2' });
    expect(proxied.ok && proxied.config.web.trustedProxies).toBe(2);
    const badProxies = loadConfig({ ...base, WEB_TRUSTED_PROXIES: 'yes' });
    expect(badProxies.ok ? [] : badProxies.problems.map((p) => p.split(':')[0])).toEqual(['WEB_TRUSTED_PROXIES']);
    expect(r.config.payments).toEqual({
      adapter: 'stripe',
      secretKey: 'sk_test_abc123',
      webhookSecret: 'whsec_abc',
      apiUrl: 'http://127.0.0.1:12111',
    });
    const defaults = loadConfig({});
    expect(defaults.ok && defaults.config.payments).toEqual({ adapter: 'manual' });
    expect(defaults.ok && defaults.config.web.publicUrl).toBeUndefined();
    const half = loadConfig({
      STRIPE_SECRET_KEY: 'sk_test_abc123',
      MIGRATION_LINK_TTL_DAYS: '0',
      STRIPE_WEBHOOK_SECRET: 'nope',
    });
    expect(half.ok).toBe(false);
    if (half.ok) return;
    expect(half.problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'MIGRATION_LINK_TTL_DAYS',
      'STRIPE_WEBHOOK_SECRET',
    ]);
    const noUrl = loadConfig({ STRIPE_SECRET_KEY: 'sk_test_abc123', STRIPE_WEBHOOK_SECRET: 'whsec_abc' });
    expect(noUrl.ok ? [] : noUrl.problems.map((p) => p.split(':')[0])).toEqual(['PUBLIC_URL']);
  });

  it('when several values are bad, then every problem is listed once, naming its variable', () => {
    const r = loadConfig({
      PORT: 'eighty',
      TZ_BILLING: 'Mars/Olympus',
      LOG_LEVEL: 'loud',
      ROLE_ADMIN: 'bob',
      MONGODB_URI: 'http://x',
      JOBS_PLAN_CONCURRENCY: '0',
      JOBS_DUE_CONCURRENCY: '-2',
      SMTP_INBOUND_MAX_CLIENTS: 'many',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'JOBS_DUE_CONCURRENCY',
      'JOBS_PLAN_CONCURRENCY',
      'LOG_LEVEL',
      'MONGODB_URI',
      'PORT',
      'ROLE_ADMIN',
      'SMTP_INBOUND_MAX_CLIENTS',
      'TZ_BILLING',
    ]);
  });

  it('when EMBEDDED_DB names an engine, old names included, then it means that engine', () => {
    const engine = (value?: string) => {
      const r = loadConfig(value === undefined ? {} : { EMBEDDED_DB: value });
      return r.ok ? r.config.db.embedded : r.problems;
    };
    expect(engine()).toBe('auto');
    expect(engine('ferretdb-postgres')).toBe('ferretdb-postgres');
    expect(engine('postgres')).toBe('ferretdb-postgres');
    expect(engine('ferretdb-sqlite')).toBe('ferretdb-sqlite');
    // The name from before there were two FerretDB engines: it meant SQLite.
    expect(engine('ferretdb')).toBe('ferretdb-sqlite');
    expect(engine('mongodb')).toBe('mongodb');
    expect(engine('oracle')).toEqual([
      expect.stringMatching(/^EMBEDDED_DB: must be one of auto, mongodb, ferretdb-postgres, ferretdb-sqlite/),
    ]);
  });

  it('when Slack is half configured, then the missing variables are named', () => {
    const r = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_CHANNEL_SALES: 'general' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const names = r.problems.map((p) => p.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'SLACK_SIGNING_SECRET',
        'SLACK_CHANNEL_SALES',
        'SLACK_CHANNEL_BILLING',
        'SLACK_CHANNEL_SUPPORT',
      ]),
    );
  });
});

describe('the process with bad configuration', () => {
  it('when started with bad values, then it exits 1 printing one line per problem', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', PORT: '-5', SMTP_URL: 'ftp://relay', DATA_DIR: '/tmp/arb-never-used' },
      encoding: 'utf8',
      // Starting tsx on a loaded two-core machine can take most of a minute.
      timeout: 100_000,
    });
    expect(run.status).toBe(1);
    const lines = run.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('config error:'));
    expect(lines).toHaveLength(2);
    expect(lines.some((l) => l.startsWith('config error: PORT:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('config error: SMTP_URL:'))).toBe(true);
  }, 120_000);
});
