/**
 * The embedded engine dying mid-run: the app restarts it with back-off on the same port, the
 * driver reconnects by itself, and mail is accepted again without restarting the bot.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sendMail } from './support/send-mail.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';
import { ownEngineName, postmasterPid, running } from './support/own-engine.js';

let t: TestApp;

beforeAll(async () => {
  // No MONGODB_URI: the app starts an engine of its own under its DATA_DIR, as `npm start` does.
  t = await startTestApp({ env: { MONGODB_URI: '', EMBEDDED_DB: ownEngineName() } });
}, 180_000);
afterAll(async () => {
  await t?.stop({ dropDatabase: false });
});

/** A mail that the bot answers 250 to, and stores once: sent again until the engine is back. */
async function mailAccepted(tag: string) {
  const messageId = `${tag}.${Date.now()}@customer.test`;
  const sent = await eventually(
    () =>
      sendMail({
        port: t.app.smtpPort,
        from: 'ana@customer.test',
        to: 'support@example.com',
        subject: `After ${tag}`,
        text: 'x',
        messageId,
      }).catch(() => undefined),
    `mail accepted after ${tag}`,
    60_000,
  );
  expect(sent.response).toMatch(/^250/);
  expect(await t.app.db.models.InboundMail.countDocuments({ messageId })).toBe(1);
}

async function ready(): Promise<boolean> {
  return (await fetch(`${t.baseUrl}/readyz`)).status === 200;
}

describe('when the embedded engine dies', () => {
  it('then after postgres is killed it is restarted, /readyz is 200 again and SMTP accepts mail', async () => {
    if (ownEngineName() !== 'ferretdb-postgres') return expect(t.app.db.engine).toBe('ferretdb-sqlite');
    expect(t.app.db.engine).toBe('ferretdb-postgres');
    await mailAccepted('warm-up');
    const before = (await postmasterPid(t.config.dataDir))!;
    expect(await running(before)).toBe(true);

    process.kill(before, 'SIGKILL');
    await eventually(async () => !(await running(before)), 'the killed postgres to be gone');
    const after = await eventually(
      async () => {
        const pid = await postmasterPid(t.config.dataDir);
        return pid !== undefined && pid !== before && (await running(pid)) ? pid : undefined;
      },
      'a new postgres',
      60_000,
    );
    expect(after).not.toBe(before);
    await mailAccepted('postgres-killed');
    await eventually(ready, '/readyz 200', 30_000);
  }, 150_000);

  it('then after the FerretDB launcher is killed it is restarted on the same port, its postgres does not linger, and SMTP accepts mail', async () => {
    const before = t.app.db.embeddedPid!()!;
    const postgresBefore = await postmasterPid(t.config.dataDir);

    process.kill(before, 'SIGKILL');
    const after = await eventually(
      async () => {
        const pid = t.app.db.embeddedPid!();
        return pid !== undefined && pid !== before ? pid : undefined;
      },
      'a new launcher',
      60_000,
    );
    expect(await running(after)).toBe(true);
    await mailAccepted('launcher-killed');
    await eventually(ready, '/readyz 200', 30_000);
    // The killed launcher's postgres shut down (parent-death signal), and a new one serves.
    if (postgresBefore !== undefined) {
      await eventually(async () => !(await running(postgresBefore)), 'the old postgres to stop', 30_000);
      expect(await postmasterPid(t.config.dataDir)).not.toBe(postgresBefore);
    }
  }, 150_000);
});
