/**
 * Seeds a database the way years of use leave it, written in bulk through the driver (no app
 * logic): `size` tickets, of which the newest 300 are open (the working set a team has at any
 * time; what grows is the closed history), 30 % opened in Slack by one of 50 staff, 70 % by email
 * with their inbound row and two Message-IDs (the customer's and our answer's), one idempotency
 * key each, 5 % migrations. Raw mail bytes are left out: no lookup reads them.
 */
import type { Models } from '../../src/db/models.js';

export const STAFF = Array.from({ length: 50 }, (_, i) => `U0G${String(i).padStart(2, '0')}`);
export const OPEN_TICKETS = 300;
const BATCH = 2000;
const KINDS = [
  'support',
  'billing',
  'sales',
  'upgrade',
  'downgrade',
  'addon',
  'pause',
  'reactivation',
  'cancellation',
] as const;
const OPEN = ['new', 'claimed', 'waiting_on_customer'] as const;
const MAILBOXES = ['support', 'billing', 'sales', 'selfserve'] as const;

export interface Seeded {
  /** Documents written per collection. */
  docs: Record<string, number>;
  ms: number;
}

/** The Message-ID the customer's first mail of ticket `i` carried (what a reply names). */
export const customerMessageId = (i: number) => `m${i}@customer${i % 5000}.test`;
export const refOf = (i: number) => `AR-${1001 + i}`;
export const isEmailTicket = (i: number) => i % 10 >= 3;

export async function seed(models: Models, size: number, onProgress: (done: number) => void): Promise<Seeded> {
  const started = Date.now();
  const docs: Record<string, number> = { tickets: 0, ticket_keys: 0, inbound_mail: 0, mail_messages: 0 };
  const base = Date.UTC(2027, 0, 1);
  const span = 3 * 365 * 86_400_000;
  for (let from = 0; from < size; from += BATCH) {
    const tickets = [];
    const keys = [];
    const inbound = [];
    const messages = [];
    for (let i = from; i < Math.min(size, from + BATCH); i += 1) {
      const ref = refOf(i);
      const at = new Date(base + Math.floor((span * i) / size));
      const open = i >= size - OPEN_TICKETS;
      const status = open ? OPEN[i % OPEN.length]! : 'closed';
      const migration = i % 20 === 0;
      const email = isEmailTicket(i);
      const staff = STAFF[i % STAFF.length]!;
      const customer = `c${i}@customer${i % 5000}.test`;
      const mailbox = MAILBOXES[i % MAILBOXES.length]!;
      const key = email ? `email:${mailbox}:${customerMessageId(i)}` : `slack:V${i}`;
      tickets.push({
        _id: ref,
        number: 1001 + i,
        ref,
        kind: migration ? 'migration' : KINDS[i % KINDS.length],
        status,
        title: `Request ${i}: invoice shows the wrong VAT`,
        description: 'Please correct the VAT number on the last two invoices. '.repeat(4),
        accountId: `GRW-${String(i % 5000).padStart(4, '0')}`,
        team: migration ? 'sales' : 'support',
        source: email ? { channel: 'email', mailbox, email: customer } : { channel: 'slack', slackUserId: staff },
        ...(email ? {} : { openedBy: staff }),
        ...(status === 'new' ? {} : { assignee: STAFF[(i * 7) % STAFF.length] }),
        ...(open
          ? {
              openFor: [
                ...new Set([...(email ? [] : [staff]), ...(status === 'new' ? [] : [STAFF[(i * 7) % STAFF.length]!])]),
              ],
            }
          : {}),
        participants: email ? [customer] : [],
        trusted: [],
        idempotencyKey: key,
        ...(migration
          ? {
              migration: {
                stage: open ? 'handed_off' : 'completed',
                customerName: `Customer ${i}`,
                accountId: `GRW-${String(i % 5000).padStart(4, '0')}`,
                salesUserId: staff,
              },
            }
          : {}),
        history: [
          { at, actor: email ? `email:${customer}` : `slack:${staff}`, action: 'opened', note: 'ticket opened' },
          {
            at: new Date(at.getTime() + 3_600_000),
            actor: `slack:${STAFF[(i * 7) % STAFF.length]}`,
            action: 'claimed',
          },
          ...(open ? [] : [{ at: new Date(at.getTime() + 86_400_000), actor: 'system', action: 'closed' }]),
        ],
        createdAt: at,
        updatedAt: at,
        __v: 0,
      });
      keys.push({ _id: key, ref });
      if (email) {
        inbound.push({
          _id: key,
          key,
          mailbox,
          via: 'smtp',
          envelopeFrom: customer,
          size: 2400,
          rawId: `raw:g${i}`,
          rawChunks: 1,
          status: 'ticket',
          ticketRef: ref,
          messageId: customerMessageId(i),
          attempts: 0,
          processedAt: at,
          createdAt: at,
          updatedAt: at,
        });
        messages.push({ _id: customerMessageId(i), ticketRef: ref, direction: 'in', address: customer, at });
        messages.push({ _id: `ack${i}@example.com`, ticketRef: ref, direction: 'out', address: customer, at });
      }
    }
    // Native inserts: the point is the data, not the app's write path.
    await models.Ticket.collection.insertMany(tickets as never[], { ordered: false });
    await models.TicketKey.collection.insertMany(keys as never[], { ordered: false });
    if (inbound.length > 0) await models.InboundMail.collection.insertMany(inbound as never[], { ordered: false });
    if (messages.length > 0) await models.MailMessage.collection.insertMany(messages as never[], { ordered: false });
    docs.tickets! += tickets.length;
    docs.ticket_keys! += keys.length;
    docs.inbound_mail! += inbound.length;
    docs.mail_messages! += messages.length;
    onProgress(Math.min(size, from + BATCH));
  }
  await models.Counter.updateOne({ _id: 'ticket' }, { $set: { seq: size } }, { upsert: true });
  return { docs, ms: Date.now() - started };
}
