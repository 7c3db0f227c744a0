/**
 * IMAP ingestion for one mailbox. Messages are read by UID, not by \Seen, so a message someone
 * already opened in a mail client is still ingested. Per message the order is store → \Seen →
 * lastUid: a crash in between re-stores a message (the store dedupes by Message-ID) but never
 * skips one, and \Seen on the server means "the bot has it".
 *
 * Only the process holding the mailbox's lease reads it (several bot processes may run).
 */
import { ImapFlow } from 'imapflow';
import type { Mailbox } from '../config.js';
import type { ImapModels } from '../db/models/imap.js';
import { racingUpsert } from '../db/models.js';
import type { Logger } from '../logger.js';
import { createLease } from './lease.js';

export type StoreInbound = (input: {
  mailbox: Mailbox;
  raw: Buffer;
  via: 'imap';
  recipient?: string;
}) => Promise<{ id: string; duplicate: boolean }>;

export interface PollResult {
  fetched: number;
  stored: number;
  duplicates: number;
  skipped?: 'no-lease';
}

export interface ImapIngestor {
  /** Reads what arrived since the last poll. Concurrent calls run one after another. */
  poll(): Promise<PollResult>;
  /**
   * Polls once, then keeps the connection and polls whenever the server announces new mail (IDLE).
   * The lease is only renewed by polls, so the scheduled poll must still run more often than
   * every leaseMs / 3, or a quiet mailbox passes to another process.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ImapIngestorDeps {
  mailbox: Mailbox;
  url: string;
  store: StoreInbound;
  models: ImapModels;
  /** Unique per process: who holds the lease. */
  holder: string;
  log: Logger;
  leaseMs?: number;
  now?: () => Date;
}

export interface ImapEndpoint {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  pass: string;
}

export function parseImapUrl(url: string): ImapEndpoint {
  const u = new URL(url);
  if (u.protocol !== 'imap:' && u.protocol !== 'imaps:') throw new Error(`not an IMAP URL (${u.protocol})`);
  const secure = u.protocol === 'imaps:';
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : secure ? 993 : 143,
    secure,
    user: decodeURIComponent(u.username),
    pass: decodeURIComponent(u.password),
  };
}

const INBOX = 'INBOX';
// The mailbox lock keeps IDLE out of a poll, so a short delay costs nothing there and lets the
// server push new mail soon after a poll instead of after imapflow's default 15 s.
const AUTO_IDLE_DELAY_MS = 500;

export function createImapIngestor(deps: ImapIngestorDeps): ImapIngestor {
  const { mailbox, store, holder } = deps;
  const { ImapState } = deps.models;
  const endpoint = parseImapUrl(deps.url);
  const where = `${endpoint.user} at ${endpoint.host}:${endpoint.port}`;
  const now = deps.now ?? (() => new Date());
  const lease = createLease(deps.models.Lease, { leaseMs: deps.leaseMs });
  const leaseName = `imap:${mailbox}`;
  const log = deps.log.child({ component: 'imap', mailbox });

  let client: ImapFlow | undefined;
  let started = false;
  let running: Promise<PollResult> | undefined;
  let queued: Promise<PollResult> | undefined;

  async function disconnect(): Promise<void> {
    const c = client;
    client = undefined;
    if (c) await c.logout().catch(() => c.close());
  }

  async function connection(): Promise<ImapFlow> {
    if (client?.usable) return client;
    await disconnect();
    const c = new ImapFlow({
      host: endpoint.host,
      port: endpoint.port,
      secure: endpoint.secure,
      auth: { user: endpoint.user, pass: endpoint.pass },
      logger: false,
      autoIdleDelay: AUTO_IDLE_DELAY_MS,
    });
    // Without a listener an 'error' event would crash the process; the failing call reports it.
    c.on('error', (err: Error) =>
      log.warn({ event: 'imap.connection_error', err: err.message }, 'IMAP connection error'),
    );
    c.on('close', () => {
      if (client === c) client = undefined;
    });
    c.on('exists', (data: { count: number; prevCount: number }) => {
      if (started && client === c && data.count > data.prevCount) void pollLogged('idle');
    });
    try {
      await c.connect();
    } catch (err) {
      c.close();
      throw connectError(err);
    }
    client = c;
    log.info(
      { event: 'imap.connected', host: endpoint.host, port: endpoint.port, user: endpoint.user },
      'IMAP connected',
    );
    return c;
  }

  // imapflow's errors carry the server exchange; only the server's words and codes are kept.
  function connectError(err: unknown): Error {
    const e = err as {
      authenticationFailed?: boolean;
      serverResponseCode?: string;
      responseText?: string;
      code?: string;
      message?: string;
    };
    if (e.authenticationFailed) {
      const said = [e.serverResponseCode, e.responseText].filter(Boolean).join(' ');
      return new Error(
        `IMAP ${mailbox}: login refused for ${where}${said ? ` (${said})` : ''}; check IMAP_URL_${mailbox.toUpperCase()}`,
      );
    }
    return new Error(`IMAP ${mailbox}: cannot connect to ${where}: ${e.code ?? e.message ?? String(err)}`);
  }

  /** The UID to read after, resetting it when the mailbox was recreated (UIDVALIDITY changed). */
  async function lastUidFor(uidValidity: string): Promise<number> {
    const state = await ImapState.findById(mailbox).lean();
    if (state?.uidValidity === uidValidity) return state.lastUid;
    if (state) {
      log.warn(
        { event: 'imap.uidvalidity_changed', was: state.uidValidity, now: uidValidity, lastUid: state.lastUid },
        'UIDVALIDITY changed: reading the mailbox from the start',
      );
    }
    await saveState(uidValidity, 0);
    return 0;
  }

  async function saveState(uidValidity: string, lastUid: number): Promise<void> {
    // Two upserts racing (a lease handover mid-poll) can both try the insert; the loser updates.
    await racingUpsert(() =>
      ImapState.updateOne({ _id: mailbox }, { $set: { uidValidity, lastUid, updatedAt: now() } }, { upsert: true }),
    );
  }

  async function pollOnce(): Promise<PollResult> {
    const result: PollResult = { fetched: 0, stored: 0, duplicates: 0 };
    if (!(await lease.tryAcquire(leaseName, holder, now()))) {
      await disconnect();
      return { ...result, skipped: 'no-lease' };
    }
    let storeFailed = false;
    try {
      const c = await connection();
      const lock = await c.getMailboxLock(INBOX);
      try {
        if (!c.mailbox) throw new Error(`IMAP ${mailbox}: ${INBOX} is not open`);
        const uidValidity = c.mailbox.uidValidity.toString();
        const lastUid = await lastUidFor(uidValidity);
        // Dovecot answers a search from the session's last synced view; NOOP syncs it first, else
        // mail that arrived since the previous poll on this connection stays invisible.
        await c.noop();
        const found = await c.search({ uid: `${lastUid + 1}:*` }, { uid: true });
        if (!Array.isArray(found)) throw new Error(`IMAP ${mailbox}: UID SEARCH failed`);
        // "n:*" always includes the highest UID, even when it is below n.
        const uids = found.filter((uid) => uid > lastUid).sort((a, b) => a - b);
        for (const uid of uids) {
          // Re-checked per message: a long batch must stop once another process owns the mailbox.
          if (!(await lease.tryAcquire(leaseName, holder, now()))) {
            log.info({ event: 'imap.lease_lost', uid }, 'lease passed to another process mid-poll');
            break;
          }
          const msg = await c.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
          if (!msg || !msg.source) continue; // expunged since the search
          result.fetched++;
          let saved: { id: string; duplicate: boolean };
          try {
            saved = await store({ mailbox, raw: msg.source, via: 'imap' });
          } catch (err) {
            storeFailed = true;
            log.error(
              { event: 'imap.store_failed', uid, uidValidity, err: (err as Error).message },
              'storing a message failed; it stays unseen and is retried',
            );
            throw new Error(`IMAP ${mailbox}: storing UID ${uid} failed: ${(err as Error).message}`, { cause: err });
          }
          if (saved.duplicate) result.duplicates++;
          else result.stored++;
          log.info({ event: 'imap.stored', uid, id: saved.id, duplicate: saved.duplicate }, 'message stored');
          if (!(await c.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true }))) {
            throw new Error(`IMAP ${mailbox}: could not flag UID ${uid} \\Seen`);
          }
          await saveState(uidValidity, uid);
        }
      } finally {
        lock.release();
      }
    } catch (err) {
      // Start the next poll on a fresh connection unless only the store failed.
      if (!storeFailed) await disconnect();
      throw err;
    }
    return result;
  }

  function run(): Promise<PollResult> {
    const p: Promise<PollResult> = pollOnce().finally(() => {
      if (running === p) running = undefined;
    });
    running = p;
    return p;
  }

  function poll(): Promise<PollResult> {
    if (queued) return queued;
    if (!running) return run();
    // A caller asking during a poll may have seen mail that poll missed: one more poll after it
    // serves every caller who asked meanwhile.
    const q: Promise<PollResult> = running
      .catch(() => undefined)
      .then(() => {
        if (queued === q) queued = undefined;
        return run();
      });
    queued = q;
    return q;
  }

  async function pollLogged(trigger: 'start' | 'idle'): Promise<void> {
    try {
      const r = await poll();
      log.debug({ event: 'imap.polled', trigger, ...r }, 'IMAP poll done');
    } catch (err) {
      log.error({ event: 'imap.poll_failed', trigger, err: (err as Error).message }, 'IMAP poll failed');
    }
  }

  return {
    poll,
    async start() {
      started = true;
      await pollLogged('start');
    },
    async stop() {
      started = false;
      await Promise.allSettled([running, queued]);
      await lease.release(leaseName, holder, now()).catch(() => undefined);
      await disconnect();
    },
  };
}
