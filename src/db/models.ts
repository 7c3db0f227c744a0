/**
 * Every model, bound to one connection (tests run several "processes" against one database).
 * Binding a schema again on the same connection returns the model already bound.
 */
import type { Connection } from 'mongoose';
import { counterModel, csatAnswerModel, ticketKeyModel, ticketModel } from './models/ticket.js';
import { outboxClaimModel, outboxModel } from './models/outbox.js';
import { roleModel, slackDeliveryModel, slackPostModel } from './models/role.js';
import { imapStateModel, leaseModel } from './models/imap.js';
import { migrationEffectModel, migrationHandoffModel, stripeEventModel } from './models/migration.js';
import { accountModel, billingLedgerModel, planChangeModel, planEffectModel, planSlotModel } from './models/account.js';
import { appSecretModel } from './models/secret.js';
import { dueClaimModel, dueWorkModel } from './models/due-work.js';
import {
  ackSlotModel,
  inboundMailModel,
  mailClaimModel,
  mailMessageModel,
  rawMailChunkModel,
  undeliverableModel,
} from './models/mail.js';

export function createModels(conn: Connection) {
  return {
    Ticket: ticketModel(conn),
    TicketKey: ticketKeyModel(conn),
    Counter: counterModel(conn),
    CsatAnswer: csatAnswerModel(conn),
    Outbox: outboxModel(conn),
    OutboxClaim: outboxClaimModel(conn),
    Role: roleModel(conn),
    SlackDelivery: slackDeliveryModel(conn),
    SlackPost: slackPostModel(conn),
    InboundMail: inboundMailModel(conn),
    MailClaim: mailClaimModel(conn),
    RawMailChunk: rawMailChunkModel(conn),
    MailMessage: mailMessageModel(conn),
    Undeliverable: undeliverableModel(conn),
    AckSlot: ackSlotModel(conn),
    ImapState: imapStateModel(conn),
    Lease: leaseModel(conn),
    MigrationHandoff: migrationHandoffModel(conn),
    MigrationEffect: migrationEffectModel(conn),
    StripeEvent: stripeEventModel(conn),
    Account: accountModel(conn),
    PlanChange: planChangeModel(conn),
    PlanEffect: planEffectModel(conn),
    PlanSlot: planSlotModel(conn),
    BillingLedger: billingLedgerModel(conn),
    AppSecret: appSecretModel(conn),
    DueWork: dueWorkModel(conn),
    DueClaim: dueClaimModel(conn),
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

/**
 * Runs an upsert that others may race. An upsert is not atomic on FerretDB: the loser of a race
 * gets a duplicate-key error although the document now exists, so it simply goes again.
 */
export async function racingUpsert<T>(upsert: () => Promise<T>): Promise<T> {
  try {
    return await upsert();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return upsert();
  }
}
