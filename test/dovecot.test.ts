/**
 * The Dovecot test server itself: the mail ingestion tests rely on it behaving like a real IMAP
 * mailbox (UIDs, flags, IDLE pushes), so those behaviours are checked here first.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ImapFlow } from 'imapflow';
import { startDovecot, type Dovecot } from './support/dovecot.js';

function message(subject: string, body: string): string {
  return [
    'From: Customer <customer@example.com>',
    'To: billing@example.com',
    `Subject: ${subject}`,
    `Message-ID: <${subject.replace(/\W/g, '')}.${Date.now()}@example.com>`,
    'Date: Mon, 01 Jan 2024 10:00:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n');
}

describe('Dovecot test server', () => {
  let dovecot: Dovecot;
  const open: ImapFlow[] = [];

  async function connect(user = 'billing', pass = 'secret'): Promise<ImapFlow> {
    const client = new ImapFlow({
      host: dovecot.host,
      port: dovecot.port,
      secure: false,
      auth: { user, pass },
      logger: false,
    });
    open.push(client);
    await client.connect();
    return client;
  }

  beforeAll(async () => {
    dovecot = await startDovecot();
  });

  afterAll(async () => {
    await Promise.all(open.map((c) => c.logout().catch(() => c.close())));
    await dovecot?.stop();
  });

  it('is reachable at the advertised url', () => {
    expect(dovecot.url('billing')).toBe(`imap://billing:secret@127.0.0.1:${dovecot.port}`);
  });

  it('lets billing log in and fetches back an appended message unchanged', async () => {
    const raw = message('Invoice question', 'Why was I charged twice?');
    const uid = await dovecot.appendMessage('billing', raw);

    const client = await connect();
    const lock = await client.getMailboxLock('INBOX');
    try {
      const fetched = await client.fetchOne(String(uid), { source: true, envelope: true }, { uid: true });
      expect(fetched && fetched.envelope?.subject).toBe('Invoice question');
      expect(fetched && fetched.source?.toString()).toBe(raw);
    } finally {
      lock.release();
    }
  });

  it('keeps UIDVALIDITY stable across connections', async () => {
    const uidValidity = async (): Promise<bigint> => {
      const client = await connect();
      const box = await client.mailboxOpen('INBOX', { readOnly: true });
      await client.logout();
      return box.uidValidity;
    };
    const first = await uidValidity();
    expect(first).toBeGreaterThan(0n);
    expect(await uidValidity()).toBe(first);
  });

  it('pushes a message appended elsewhere to a client in IDLE', async () => {
    const client = await connect('support');
    await client.mailboxOpen('INBOX');
    const before = client.mailbox ? client.mailbox.exists : 0;
    const seen = new Promise<number>((resolve) =>
      client.on('exists', (data: { count: number }) => resolve(data.count)),
    );

    void client.idle();
    while (!client.idling) await new Promise((r) => setTimeout(r, 20));
    // idling flips before the server's "+ idling" reply; give the command a moment to land.
    await new Promise((r) => setTimeout(r, 300));

    await dovecot.appendMessage('support', message('Please help', 'Cannot log in.'));
    await expect(seen).resolves.toBe(before + 1);
  });

  it('shows \\Seen set by one client to another', async () => {
    const uid = await dovecot.appendMessage('sales', message('Upgrade', 'We want the Pro plan.'));
    expect(await dovecot.listFlags('sales')).toEqual([{ uid, flags: [] }]);

    const client = await connect('sales');
    const lock = await client.getMailboxLock('INBOX');
    try {
      await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
    } finally {
      lock.release();
    }
    expect(await dovecot.listFlags('sales')).toEqual([{ uid, flags: ['\\Seen'] }]);
  });

  it('refuses a wrong password', async () => {
    await expect(connect('billing', 'not-the-password')).rejects.toMatchObject({ authenticationFailed: true });
  });
});
