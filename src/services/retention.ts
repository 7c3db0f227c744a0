/**
 * Bounded storage: what the app keeps only to work (claims, guards against Slack's and the payment provider's retries,
 * delivered outbox rows, acknowledgement slots, leases) goes after the operational retention; a
 * closed ticket with its mail goes after the customer retention, counted from its last activity.
 * An open ticket is never deleted, nor one with a plan change or due work still pending, nor one
 * with a Slack post or email still waiting in the outbox. Every delete is by `_id` lists or by one
 * field, in batches, so a crash half-way leaves rows the next run finds again; the ticket itself
 * goes last for that reason.
 */
import type { Models } from '../db/models.js';

const DAY_MS = 86_400_000;
/** Rows read and deleted per statement: `$in` lists stay short on every engine. */
const BATCH = 500;
/** Tickets looked at per round (each round reads their related rows with one query per collection). */
const TICKET_BATCH = 200;

export interface RetentionPolicy {
  /** RETENTION_OPERATIONAL_DAYS */
  operationalDays: number;
  /** RETENTION_DAYS: customer mail and tickets. */
  customerDays: number;
}

/** Rows deleted, by collection name. */
export type RetentionCounts = Record<string, number>;

export interface RetentionReport {
  deleted: RetentionCounts;
  /** Closed tickets past the retention kept because work is still pending for them. */
  ticketsKeptPending: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModel = { deleteMany(filter: any): { exec(): Promise<{ deletedCount: number }> } };

export async function purgeExpired(models: Models, policy: RetentionPolicy, now: Date): Promise<RetentionReport> {
  const deleted: RetentionCounts = {};
  const add = (collection: string, n: number) => (deleted[collection] = (deleted[collection] ?? 0) + n);
  const remove = async (model: AnyModel, collection: string, filter: object) =>
    add(collection, (await model.deleteMany(filter).exec()).deletedCount);

  const opCut = new Date(now.getTime() - policy.operationalDays * DAY_MS);
  await remove(models.SlackDelivery, 'slack_deliveries', { at: { $lt: opCut } });
  await remove(models.AckSlot, 'ack_slots', { at: { $lt: opCut } });
  await remove(models.Lease, 'leases', { at: { $lt: opCut } });
  // Payment webhook event IDs: the provider retries for days, not for a month.
  await remove(models.StripeEvent, 'stripe_events', { at: { $lt: opCut } });
  await remove(models.Outbox, 'outbox', { status: { $in: ['sent', 'dead'] }, updatedAt: { $lt: opCut } });
  // A claim goes once its row no longer needs it: a pending row's claim of its current attempt is
  // what tells the next process that an attempt was made (a lost claim would let it post blind).
  add(
    'outbox_claims',
    await purgeClaims(models.OutboxClaim, opCut, ':', async (ids) =>
      idsOf(
        await models.Outbox.find({ _id: { $in: ids }, status: 'pending' })
          .select({ _id: 1 })
          .lean(),
      ),
    ),
  );
  add(
    'mail_claims',
    await purgeClaims(models.MailClaim, opCut, ':', async (ids) =>
      idsOf(
        await models.InboundMail.find({ _id: { $in: ids }, status: 'received' })
          .select({ _id: 1 })
          .lean(),
      ),
    ),
  );
  // A due row's claims are needed while the row exists (a re-armed row has a new attempt, but the
  // cost of keeping its few old claims is nothing).
  add(
    'due_claims',
    await purgeClaims(models.DueClaim, opCut, '#', async (ids) =>
      idsOf(
        await models.DueWork.find({ _id: { $in: ids } })
          .select({ _id: 1 })
          .lean(),
      ),
    ),
  );

  const custCut = new Date(now.getTime() - policy.customerDays * DAY_MS);
  const ticketsKeptPending = await purgeTickets(models, custCut, add);
  await purgeLooseMail(models, custCut, add);
  await remove(models.Undeliverable, 'undeliverable_addresses', { at: { $lt: custCut } });
  return { deleted, ticketsKeptPending };
}

const idsOf = (rows: { _id: unknown }[]) => new Set(rows.map((r) => String(r._id)));

/**
 * Deletes claims older than `cut` (`<parent id><sep><attempt>`) whose parent `stillNeeded` does not
 * name. Pages by `_id`, so claims kept for a parent are passed over, not read again.
 */
async function purgeClaims(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  model: any,
  cut: Date,
  sep: string,
  stillNeeded: (parentIds: string[]) => Promise<Set<string>>,
): Promise<number> {
  let after = '';
  let count = 0;
  for (;;) {
    const rows = (await model
      .find({ at: { $lt: cut }, _id: { $gt: after } })
      .select({ _id: 1 })
      .sort({ _id: 1 })
      .limit(BATCH)
      .lean()) as { _id: string }[];
    if (rows.length === 0) return count;
    after = rows.at(-1)!._id;
    const parentOf = (id: string) => id.slice(0, Math.max(0, id.lastIndexOf(sep)));
    const needed = await stillNeeded([...new Set(rows.map((r) => parentOf(r._id)))]);
    const gone = rows.map((r) => r._id).filter((id) => !needed.has(parentOf(id)));
    if (gone.length > 0) count += (await model.deleteMany({ _id: { $in: gone } })).deletedCount as number;
    if (rows.length < BATCH) return count;
  }
}

/** Closed tickets whose last activity is before `cut`, with their mail; returns how many were kept for pending work. */
async function purgeTickets(models: Models, cut: Date, add: (collection: string, n: number) => void): Promise<number> {
  let after = '';
  let kept = 0;
  for (;;) {
    // `updatedAt` moves with every write to the ticket; the history's last line is checked too,
    // because it is stamped on the app's clock and is what people read as "last activity".
    const candidates = await models.Ticket.find({ status: 'closed', updatedAt: { $lt: cut }, _id: { $gt: after } })
      .select({ _id: 1, idempotencyKey: 1, history: 1, updatedAt: 1 })
      .sort({ _id: 1 })
      .limit(TICKET_BATCH)
      .lean();
    if (candidates.length === 0) return kept;
    after = String(candidates.at(-1)!._id);
    const expired = candidates.filter((t) => lastActivity(t).getTime() < cut.getTime());
    const refs = expired.map((t) => String(t._id));
    const pending = new Set<string>([
      ...(
        await models.PlanChange.find({ ticketRef: { $in: refs }, status: 'scheduled' })
          .select({ ticketRef: 1 })
          .lean()
      ).map((c) => String(c.ticketRef)),
      ...(
        await models.DueWork.find({ key: { $in: refs } })
          .select({ key: 1 })
          .lean()
      ).map((d) => d.key),
      ...(
        await models.Outbox.find({ ticketRef: { $in: refs }, status: 'pending' })
          .select({ ticketRef: 1 })
          .lean()
      ).map((o) => String(o.ticketRef)),
    ]);
    kept += pending.size;
    const going = expired.filter((t) => !pending.has(String(t._id)));
    if (going.length > 0) await deleteTickets(models, going, add);
    if (candidates.length < TICKET_BATCH) return kept;
  }
}

function lastActivity(t: { updatedAt?: Date | null; history?: { at: Date }[] }): Date {
  const times = [t.updatedAt?.getTime() ?? 0, ...(t.history ?? []).map((h) => new Date(h.at).getTime())];
  return new Date(Math.max(...times));
}

async function deleteTickets(
  models: Models,
  tickets: { _id: unknown; idempotencyKey?: string | null }[],
  add: (collection: string, n: number) => void,
): Promise<void> {
  const refs = tickets.map((t) => String(t._id));
  const mail = await models.InboundMail.find({ ticketRef: { $in: refs } })
    .select({ _id: 1, rawId: 1, rawChunks: 1 })
    .lean();
  await deleteInbound(models, mail, add);
  add('mail_messages', (await models.MailMessage.deleteMany({ ticketRef: { $in: refs } })).deletedCount);
  add(
    'outbox',
    (await models.Outbox.deleteMany({ ticketRef: { $in: refs }, status: { $ne: 'pending' } })).deletedCount,
  );
  add(
    'slack_posts',
    (await models.SlackPost.deleteMany({ _id: { $in: refs.flatMap((r) => [`card:${r}`, `handoff:${r}`]) } }))
      .deletedCount,
  );
  add('migration_effects', (await models.MigrationEffect.deleteMany({ ref: { $in: refs } })).deletedCount);
  add('migration_handoffs', (await models.MigrationHandoff.deleteMany({ ref: { $in: refs } })).deletedCount);
  // A CSAT answer's `_id` is its ticket's ref.
  add('csat_answers', (await models.CsatAnswer.deleteMany({ _id: { $in: refs } })).deletedCount);
  const keys = tickets.map((t) => t.idempotencyKey).filter((k): k is string => Boolean(k));
  add('ticket_keys', (await models.TicketKey.deleteMany({ _id: { $in: keys } })).deletedCount);
  // Last: a run stopped before this finds the ticket again and finishes.
  add('tickets', (await models.Ticket.deleteMany({ _id: { $in: refs }, status: 'closed' })).deletedCount);
}

/** Processed mail older than `cut` that belongs to no ticket still kept (review, bounces, auto-replies). */
async function purgeLooseMail(models: Models, cut: Date, add: (collection: string, n: number) => void): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await models.InboundMail.find({
      createdAt: { $lt: cut },
      status: { $ne: 'received' },
      _id: { $gt: after },
    })
      .select({ _id: 1, rawId: 1, rawChunks: 1, ticketRef: 1 })
      .sort({ _id: 1 })
      .limit(BATCH)
      .lean();
    if (rows.length === 0) return;
    after = String(rows.at(-1)!._id);
    const refs = [...new Set(rows.map((r) => r.ticketRef).filter((r): r is string => Boolean(r)))];
    const live = idsOf(
      refs.length > 0
        ? await models.Ticket.find({ _id: { $in: refs } })
            .select({ _id: 1 })
            .lean()
        : [],
    );
    await deleteInbound(
      models,
      rows.filter((r) => !r.ticketRef || !live.has(r.ticketRef)),
      add,
    );
    if (rows.length < BATCH) return;
  }
}

/** Inbound rows and their raw pieces; pieces another row still shares (one message to two mailboxes) stay. */
async function deleteInbound(
  models: Models,
  rows: { _id: unknown; rawId?: string | null; rawChunks: number }[],
  add: (collection: string, n: number) => void,
): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH);
    add(
      'inbound_mail',
      (await models.InboundMail.deleteMany({ _id: { $in: batch.map((r) => String(r._id)) } })).deletedCount,
    );
    const rawIds = [...new Set(batch.map((r) => r.rawId).filter((r): r is string => Boolean(r)))];
    const shared = new Set(
      rawIds.length > 0
        ? (
            await models.InboundMail.find({ rawId: { $in: rawIds } })
              .select({ rawId: 1 })
              .lean()
          ).map((r) => String(r.rawId))
        : [],
    );
    const pieces = batch
      .filter((r) => !r.rawId || !shared.has(r.rawId))
      .flatMap((r) => Array.from({ length: r.rawChunks }, (_, n) => `${r.rawId ?? String(r._id)}#${n}`));
    for (let j = 0; j < pieces.length; j += BATCH)
      add(
        'raw_mail_chunks',
        (await models.RawMailChunk.deleteMany({ _id: { $in: pieces.slice(j, j + BATCH) } })).deletedCount,
      );
  }
}
