/**
 * One IMAP ingestor per configured mailbox, polled by an Agenda job. The poll also renews the
 * mailbox lease, so it runs well inside a third of the lease (see lease.ts); between polls the
 * open connection's IDLE brings new mail at once.
 */
import { randomUUID } from 'node:crypto';
import type { Config, Mailbox } from '../config.js';
import type { Models } from '../db/models.js';
import type { Logger } from '../logger.js';
import type { Scheduler } from '../jobs/scheduler.js';
import { createImapIngestor, type ImapIngestor } from './imap.js';
import type { InboundStore } from './inbound-store.js';

export const IMAP_POLL_INTERVAL = '15 seconds';
export const imapPollJob = (mailbox: Mailbox) => `imap.poll.${mailbox}`;

export function createImapIngestors(deps: {
  config: Config;
  models: Models;
  inbound: InboundStore;
  scheduler: Scheduler;
  log: Logger;
  holder?: string;
}) {
  const holder = deps.holder ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
  const ingestors = new Map<Mailbox, ImapIngestor>();
  for (const [mailbox, url] of Object.entries(deps.config.mail.imap) as [Mailbox, string][]) {
    const ingestor = createImapIngestor({
      mailbox,
      url,
      // IMAP hands over whole messages; they go through the same store as SMTP's streams.
      store: async (input) => {
        const { rows } = await deps.inbound.store({
          via: 'imap',
          targets: [{ mailbox: input.mailbox, recipient: input.recipient }],
          source: input.raw,
        });
        return rows[0]!;
      },
      models: { ImapState: deps.models.ImapState, Lease: deps.models.Lease },
      holder,
      log: deps.log,
    });
    ingestors.set(mailbox, ingestor);
    deps.scheduler.define(imapPollJob(mailbox), async () => void (await ingestor.poll()), {
      concurrency: 1,
      lockLifetimeMs: 120_000,
    });
  }
  return {
    ingestors,
    async start(): Promise<void> {
      for (const [mailbox, ingestor] of ingestors) {
        await ingestor.start();
        await deps.scheduler.every(IMAP_POLL_INTERVAL, imapPollJob(mailbox));
      }
    },
    async stop(): Promise<void> {
      for (const ingestor of ingestors.values()) await ingestor.stop();
    },
  };
}
