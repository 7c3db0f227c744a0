/**
 * IMAP ingestion against a real Dovecot and the test database: what is stored, in which order,
 * what gets \Seen and when, and which process reads a mailbox shared by several.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import mongoose, { type Connection } from 'mongoose';
import { createImapModels, type ImapModels } from '../src/db/models/imap.js';
import { createImapIngestor, parseImapUrl, type ImapIngestor, type StoreInbound } from '../src/mail/imap.js';
import { createLease } from '../src/mail/lease.js';
import { createLogger } from '../src/logger.js';
import { startDovecot, type Dovecot } from './support/dovecot.js';
import { eventually, testDatabaseUri } from './support/test-app.js';

const PASSWORD = 'secret';
const ODD_PASSWORD = 'p@ss/w%rd?&';
// One Dovecot user per scenario, so each starts from an empty INBOX.
const USERS = ['three', 'again', 'idle', 'serial', 'failing', 'dropped', 'shared', 'recreated', 'refused', 'odd'];

let dovecot: Dovecot;
let conn: Connection;
let models: ImapModels;
const ingestors: ImapIngestor[] = [];

beforeAll(async () => {
  dovecot = await startDovecot({
    users: USERS.map((user) => ({ user, password: user === 'odd' ? ODD_PASSWORD : PASSWORD })),
  });
  conn = await mongoose.createConnection(testDatabaseUri(), { bufferCommands: false, autoIndex: false }).asPromise();
  models = createImapModels(conn);
});
beforeEach(async () => {
  await models.ImapState.deleteMany({});
  await models.Lease.deleteMany({});
});
afterEach(async () => {
  await Promise.all(ingestors.splice(0).map((i) => i.stop()));
});
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
  await dovecot?.stop();
});

let sequence = 0;
function message(subject: string, body = `Body of ${subject}`): string {
  return [
    'From: Customer <customer@example.com>',
    'To: billing@example.com',
    `Subject: ${subject}`,
    `Message-ID: <${subject.replace(/\W/g, '')}.${++sequence}@example.com>`,
    'Date: Mon, 01 Jan 2024 10:00:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n');
}

/** The real store is the services'; this one dedupes by Message-ID like it does and records calls. */
function fakeStore() {
  const ids = new Map<string, string>();
  const calls: { subject: string; duplicate: boolean }[] = [];
  let failSubject: string | undefined;
  const store: StoreInbound = async ({ raw, via }) => {
    expect(via).toBe('imap');
    const text = raw.toString('utf8');
    const header = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'im').exec(text)?.[1]?.trim() ?? '';
    const subject = header('Subject');
    if (subject === failSubject) throw new Error('database unavailable');
    const messageId = header('Message-ID');
    const known = ids.get(messageId);
    calls.push({ subject, duplicate: known !== undefined });
    if (known) return { id: known, duplicate: true };
    const id = `T${ids.size + 1}`;
    ids.set(messageId, id);
    return { id, duplicate: false };
  };
  return {
    store,
    calls,
    subjects: () => calls.map((c) => c.subject),
    failOn: (subject: string | undefined) => {
      failSubject = subject;
    },
  };
}

function captureLog() {
  const lines: string[] = [];
  return { lines, log: createLogger('debug', { write: (line: string) => void lines.push(line) }) };
}

function ingestor(opts: {
  user: string;
  store: StoreInbound;
  holder?: string;
  url?: string;
  now?: () => Date;
  log?: ReturnType<typeof createLogger>;
}) {
  const i = createImapIngestor({
    mailbox: 'billing',
    url: opts.url ?? dovecot.url(opts.user),
    store: opts.store,
    models,
    holder: opts.holder ?? 'A',
    log: opts.log ?? createLogger('silent'),
    ...(opts.now ? { now: opts.now } : {}),
  });
  ingestors.push(i);
  return i;
}

async function append(user: string, ...subjects: string[]): Promise<number[]> {
  const uids: number[] = [];
  for (const s of subjects) uids.push(await dovecot.appendMessage(user, message(s)));
  return uids;
}

/** A TCP relay to Dovecot whose connections the test can cut, as a network failure would. */
async function startRelay(port: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(port, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => sockets.forEach((s) => s.destroy()),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const state = () => models.ImapState.findById('billing').lean();

describe('IMAP ingestion', () => {
  it('when three messages are in INBOX, then poll stores all three in UID order, flags each \\Seen and records lastUid', async () => {
    const uids = await append('three', 'First', 'Second', 'Third');
    const s = fakeStore();
    const { log, lines } = captureLog();

    expect(await ingestor({ user: 'three', store: s.store, log }).poll()).toEqual({
      fetched: 3,
      stored: 3,
      duplicates: 0,
    });

    expect(s.subjects()).toEqual(['First', 'Second', 'Third']);
    expect(await dovecot.listFlags('three')).toEqual(uids.map((uid) => ({ uid, flags: ['\\Seen'] })));
    expect(await state()).toMatchObject({ lastUid: uids[2], uidValidity: expect.stringMatching(/^\d+$/) });
    expect(lines.some((l) => l.includes('"imap.stored"'))).toBe(true);
    expect(lines.filter((l) => l.includes(PASSWORD) || l.includes('Body of'))).toEqual([]);
  });

  it('when poll runs again, then nothing is stored twice', async () => {
    await append('again', 'Once', 'Only once');
    const s = fakeStore();
    const i = ingestor({ user: 'again', store: s.store });
    await i.poll();

    expect(await i.poll()).toEqual({ fetched: 0, stored: 0, duplicates: 0 });
    const [uid] = await append('again', 'Later');
    expect(await i.poll()).toEqual({ fetched: 1, stored: 1, duplicates: 0 });
    expect(s.calls).toEqual([
      { subject: 'Once', duplicate: false },
      { subject: 'Only once', duplicate: false },
      { subject: 'Later', duplicate: false },
    ]);
    expect((await state())?.lastUid).toBe(uid);
  });

  it('when a new message is appended while started, then the server pushes it (IDLE) and it is stored without calling poll', async () => {
    const s = fakeStore();
    const i = ingestor({ user: 'idle', store: s.store });
    await i.start();
    expect(s.calls).toEqual([]);

    const [uid] = await append('idle', 'Pushed');
    await eventually(async () => s.calls.length === 1, 'the pushed message stored', 5_000);
    expect(s.subjects()).toEqual(['Pushed']);
    await eventually(async () => (await state())?.lastUid === uid, 'lastUid recorded', 5_000);
    expect(await dovecot.listFlags('idle')).toEqual([{ uid, flags: ['\\Seen'] }]);

    // Still listening after its own poll: a second push is stored as well.
    await append('idle', 'Pushed again');
    await eventually(async () => s.calls.length === 2, 'the second pushed message stored', 5_000);
  });

  it('when polls are asked for at once, then they run one at a time and nothing is stored twice', async () => {
    await append('serial', 'S1', 'S2', 'S3');
    const s = fakeStore();
    let inStore = 0;
    let most = 0;
    const slow: StoreInbound = async (input) => {
      most = Math.max(most, ++inStore);
      await new Promise((r) => setTimeout(r, 20));
      inStore--;
      return s.store(input);
    };
    const i = ingestor({ user: 'serial', store: slow });

    const results = await Promise.all([i.poll(), i.poll(), i.poll()]);
    expect(results.map((r) => r.fetched)).toEqual([3, 0, 0]);
    expect(most).toBe(1);
    expect(s.subjects()).toEqual(['S1', 'S2', 'S3']);
  });

  it('when the store throws for a message, then it stays unseen, lastUid stays before it, and the next poll retries it', async () => {
    const [first, second, third] = await append('failing', 'Fine', 'Breaks', 'Waits');
    const s = fakeStore();
    const i = ingestor({ user: 'failing', store: s.store });
    s.failOn('Breaks');

    await expect(i.poll()).rejects.toThrow(`IMAP billing: storing UID ${second} failed: database unavailable`);
    expect(await dovecot.listFlags('failing')).toEqual([
      { uid: first, flags: ['\\Seen'] },
      { uid: second, flags: [] },
      { uid: third, flags: [] },
    ]);
    expect((await state())?.lastUid).toBe(first);

    s.failOn(undefined);
    expect(await i.poll()).toEqual({ fetched: 2, stored: 2, duplicates: 0 });
    expect(s.subjects()).toEqual(['Fine', 'Breaks', 'Waits']);
    expect((await dovecot.listFlags('failing')).map((m) => m.flags)).toEqual([['\\Seen'], ['\\Seen'], ['\\Seen']]);
    expect((await state())?.lastUid).toBe(third);
  });

  it('when the connection drops, then the next poll reconnects and carries on', async () => {
    const relay = await startRelay(dovecot.port);
    try {
      await append('dropped', 'Before the drop');
      const s = fakeStore();
      const { log, lines } = captureLog();
      const i = ingestor({
        user: 'dropped',
        store: s.store,
        url: `imap://dropped:${PASSWORD}@127.0.0.1:${relay.port}`,
        log,
      });
      expect((await i.poll()).stored).toBe(1);

      relay.cut();
      await append('dropped', 'After the drop');
      expect(await i.poll()).toEqual({ fetched: 1, stored: 1, duplicates: 0 });
      expect(s.subjects()).toEqual(['Before the drop', 'After the drop']);
      expect(lines.filter((l) => l.includes('"imap.connected"'))).toHaveLength(2);
    } finally {
      relay.cut();
      await relay.close();
    }
  });

  it('when two ingestors poll the same mailbox, then only the lease holder fetches, until it lets go', async () => {
    await append('shared', 'One', 'Two');
    const s = fakeStore();
    // A fixed clock: the lease window must not roll over in the middle of the test.
    const now = () => new Date(Date.UTC(2024, 0, 1, 10, 0, 5));
    const a = ingestor({ user: 'shared', store: s.store, holder: 'A', now });
    const b = ingestor({ user: 'shared', store: s.store, holder: 'B', now });

    const results = await Promise.all([a.poll(), b.poll()]);
    const [winner, loser] = results[0].skipped ? [b, a] : [a, b];
    expect(results.map((r) => r.skipped).sort()).toEqual(['no-lease', undefined]);
    expect(s.subjects()).toEqual(['One', 'Two']);

    await append('shared', 'Three');
    expect(await loser.poll()).toEqual({ fetched: 0, stored: 0, duplicates: 0, skipped: 'no-lease' });
    expect(await winner.poll()).toEqual({ fetched: 1, stored: 1, duplicates: 0 });

    await winner.stop();
    await append('shared', 'Four');
    expect(await loser.poll()).toEqual({ fetched: 1, stored: 1, duplicates: 0 });
    expect(s.subjects()).toEqual(['One', 'Two', 'Three', 'Four']);
  });

  it('when UIDVALIDITY changes, then it reads the mailbox from the start and the store sees duplicates', async () => {
    const uids = await append('recreated', 'Before', 'After');
    const s = fakeStore();
    const { log, lines } = captureLog();
    const i = ingestor({ user: 'recreated', store: s.store, log });
    await i.poll();
    const real = (await state())!.uidValidity;
    await models.ImapState.updateOne({ _id: 'billing' }, { $set: { uidValidity: '4294967295' } });

    expect(await i.poll()).toEqual({ fetched: 2, stored: 0, duplicates: 2 });
    expect(s.calls.map((c) => c.duplicate)).toEqual([false, false, true, true]);
    expect(await state()).toMatchObject({ uidValidity: real, lastUid: uids[1] });
    expect(lines.some((l) => l.includes('"imap.uidvalidity_changed"') && l.includes('4294967295'))).toBe(true);
  });

  it('when the URL carries a percent-encoded password, then it logs in with the decoded one', async () => {
    expect(dovecot.url('odd')).toContain(encodeURIComponent(ODD_PASSWORD));
    await append('odd', 'Encoded');
    const s = fakeStore();
    expect(await ingestor({ user: 'odd', store: s.store }).poll()).toEqual({ fetched: 1, stored: 1, duplicates: 0 });
  });

  it('when an imaps URL has no port, then TLS on 993 is used', () => {
    expect(parseImapUrl('imaps://jane%40example.com:a%3Ab@mail.example.com')).toEqual({
      host: 'mail.example.com',
      port: 993,
      secure: true,
      user: 'jane@example.com',
      pass: 'a:b',
    });
    expect(parseImapUrl('imap://u:p@[::1]')).toMatchObject({ host: '::1', port: 143, secure: false });
  });

  // Last of the IMAP tests: after a failed login Dovecot delays the next login from this address
  // by a few seconds (its auth penalty), so nothing here logs in again.
  it('when the password is wrong, then poll rejects with a clear error and nothing is stored', async () => {
    await append('refused', 'Never read');
    const s = fakeStore();
    const { log, lines } = captureLog();
    const url = `imap://refused:wrong-password@127.0.0.1:${dovecot.port}`;
    const i = ingestor({ user: 'refused', store: s.store, url, log });

    const err = await i.poll().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(
      /^IMAP billing: login refused for refused at 127\.0\.0\.1:\d+ .*check IMAP_URL_BILLING$/,
    );
    expect(err?.message).not.toContain('wrong-password');
    expect(s.calls).toEqual([]);
    expect(await state()).toBeNull();
    expect(lines.filter((l) => l.includes('wrong-password'))).toEqual([]);
  });
});

describe('lease', () => {
  const MS = 60_000;
  const base = 28_000_000 * MS; // the start of a window
  const at = (offset: number) => new Date(base + offset);

  it('when two holders race for a window, then exactly one wins it', async () => {
    const lease = createLease(models.Lease, { leaseMs: MS });
    const names = Array.from({ length: 10 }, (_, n) => `race:${n}`);
    const results = await Promise.all(
      names.map((name) =>
        Promise.all([lease.tryAcquire(name, 'A', at(1_000)), lease.tryAcquire(name, 'B', at(1_000))]),
      ),
    );
    expect(results.map(([a, b]) => Number(a) + Number(b))).toEqual(names.map(() => 1));
    // The loser keeps losing, the winner keeps winning, for the rest of the window.
    for (const [n, [aWon]] of results.entries()) {
      expect(await lease.tryAcquire(names[n]!, 'A', at(30_000))).toBe(aWon);
      expect(await lease.tryAcquire(names[n]!, 'B', at(30_000))).toBe(!aWon);
    }
  });

  it('when the holder renews in the last third of its window, then it keeps the next window', async () => {
    const lease = createLease(models.Lease, { leaseMs: MS });
    expect(await lease.tryAcquire('keep', 'A', at(1_000))).toBe(true);
    expect(await lease.tryAcquire('keep', 'A', at(45_000))).toBe(true);
    expect(await lease.tryAcquire('keep', 'B', at(MS + 1))).toBe(false);
    expect(await lease.tryAcquire('keep', 'A', at(MS + 2))).toBe(true);
  });

  it('when the holder stops renewing, then the other takes over in the next window', async () => {
    const lease = createLease(models.Lease, { leaseMs: MS });
    expect(await lease.tryAcquire('handover', 'A', at(1_000))).toBe(true);
    expect(await lease.tryAcquire('handover', 'B', at(59_999))).toBe(false);
    // A's last call came before the last third, so it never claimed the next window.
    expect(await lease.tryAcquire('handover', 'B', at(MS))).toBe(true);
    expect(await lease.tryAcquire('handover', 'A', at(MS + 1))).toBe(false);
  });

  it('when the holder releases, then the other can take the window at once', async () => {
    const lease = createLease(models.Lease, { leaseMs: MS });
    expect(await lease.tryAcquire('released', 'A', at(50_000))).toBe(true);
    await lease.release('released', 'B', at(50_000)); // not B's to give away
    expect(await lease.tryAcquire('released', 'B', at(50_001))).toBe(false);
    await lease.release('released', 'A', at(50_002));
    expect(await lease.tryAcquire('released', 'B', at(50_003))).toBe(true);
    expect(await lease.tryAcquire('released', 'B', at(MS + 1))).toBe(true);
  });

  it('when windows pass, then the holder deletes documents of long-gone windows', async () => {
    const lease = createLease(models.Lease, { leaseMs: MS });
    for (let w = 0; w < 6; w++) expect(await lease.tryAcquire('sweep', 'A', at(w * MS + 1_000))).toBe(true);
    const ids = (await models.Lease.find({ _id: /^sweep:/ }).lean()).map((d) => d._id).sort();
    const window = base / MS;
    expect(ids).toEqual([3, 4, 5].map((w) => `sweep:${window + w}`));
  });
});
