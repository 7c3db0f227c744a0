/**
 * The database going away mid-run: a short "try again", /readyz 503, no crash; and when the same
 * server is back on its address, ready again and serving commands and mail, without a restart.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFerret, type FerretHandle } from '../src/db/ferretdb.js';
import { createLogger } from '../src/logger.js';
import { ownEngineBackend } from './support/own-engine.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { sendMail } from './support/send-mail.js';
import { slashCommand } from './support/slack-requests.js';
import { eventually, startTestApp, USERS, type TestApp } from './support/test-app.js';

let slack: FakeSlack;
let t: TestApp;
let ferret: FerretHandle;
let dir: string;
const log = createLogger('silent');

beforeAll(async () => {
  // A database server of this test's own, so stopping it harms no other test.
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-down-'));
  ferret = await startFerret(dir, log, undefined, { backend: ownEngineBackend() });
  slack = await startFakeSlack();
  t = await startTestApp({ slack, databaseUri: `${ferret.uri.replace(/\/?$/, '/')}down_test` });
});
afterAll(async () => {
  await t.stop({ dropDatabase: false });
  await slack.close();
  await ferret.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('when the database is down', () => {
  it('then /readyz is 503, /healthz stays 200, a command gets a short try-again answer, and nothing crashes', async () => {
    expect((await fetch(`${t.baseUrl}/readyz`)).status).toBe(200);
    await ferret.stop();

    const ready = await fetch(`${t.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);

    const res = await t.post(
      slashCommand({
        command: '/ticket',
        text: 'mine',
        userId: USERS.rep,
        channelId: 'C0X',
        responseUrl: slack.responseUrl('down'),
      }),
    );
    expect(res.status).toBe(200);
    const answer = await slack.waitFor('response_url', (c) => c.responseUrlId === 'down', 10_000);
    expect(answer.args.text).toBe('The ticket store is not answering right now. Please try again in a minute.');
    expect(JSON.stringify(answer.args)).not.toMatch(/Mongo|Error:|at .*\.ts/);

    // Still serving: the usage answer needs no database.
    const usage = await t.post(slashCommand({ command: '/ticket', text: 'what', userId: USERS.rep, channelId: 'C0X' }));
    expect(usage.status).toBe(200);
    expect((usage.json as { text: string }).text).toMatch(/^Usage:/);
  });

  it('then, once the database is back on its address, /readyz is 200 again and commands and mail are served without restarting the bot', async () => {
    expect((await fetch(`${t.baseUrl}/readyz`)).status).toBe(503);
    // The same server again (same data, same port): the driver reconnects by itself.
    ferret = await startFerret(dir, log, new URL(ferret.uri).host, { backend: ownEngineBackend() });
    await eventually(async () => (await fetch(`${t.baseUrl}/readyz`)).status === 200, '/readyz 200 again', 60_000);

    const res = await t.post(
      slashCommand({
        command: '/ticket',
        text: 'mine',
        userId: USERS.rep,
        channelId: 'C0X',
        responseUrl: slack.responseUrl('back'),
      }),
    );
    expect(res.status).toBe(200);
    const answer = await slack.waitFor('response_url', (c) => c.responseUrlId === 'back', 10_000);
    expect(answer.args.text).toBe('Your tickets: none');

    const messageId = `back.${Date.now()}@customer.test`;
    const sent = await sendMail({
      port: t.app.smtpPort,
      from: 'ana@customer.test',
      to: 'support@example.com',
      subject: 'After the outage',
      text: 'Hello again.',
      messageId,
    });
    expect(sent.response).toMatch(/^250/);
    const row = await eventually(
      async () => {
        const r = await t.app.db.models.InboundMail.findOne({ messageId }).lean();
        return r?.status === 'ticket' ? r : undefined;
      },
      'the mail to become a ticket',
      30_000,
    );
    expect(await t.app.db.models.Ticket.countDocuments({ _id: row.ticketRef })).toBe(1);
  }, 120_000);
});
