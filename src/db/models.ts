/** Every model, bound to one connection (tests run several "processes" against one database). */
import type { Connection } from 'mongoose';
import { counterModel, ticketModel } from './models/ticket.js';
import { outboxClaimModel, outboxModel } from './models/outbox.js';
import { roleModel, slackDeliveryModel } from './models/role.js';
import { imapStateModel, leaseModel } from './models/imap.js';
import { ackSlotModel, inboundMailModel, mailMessageModel, undeliverableModel } from './models/mail.js';

export function createModels(conn: Connection) {
  return {
    Ticket: ticketModel(conn),
    Counter: counterModel(conn),
    Outbox: outboxModel(conn),
    OutboxClaim: outboxClaimModel(conn),
    Role: roleModel(conn),
    SlackDelivery: slackDeliveryModel(conn),
    InboundMail: inboundMailModel(conn),
    MailMessage: mailMessageModel(conn),
    Undeliverable: undeliverableModel(conn),
    AckSlot: ackSlotModel(conn),
    ImapState: imapStateModel(conn),
    Lease: leaseModel(conn),
  };
}
export type Models = ReturnType<typeof createModels>;

/** Creates every index before traffic: the unique ones are what makes "exactly once" hold. */
export async function ensureIndexes(models: Models): Promise<void> {
  for (const model of Object.values(models)) {
    await model.createCollection().catch(() => undefined);
    await model.createIndexes();
  }
}

export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;
}
