/**
 * The customer's migration page links: issued into every migration email from "scheduled" on,
 * checked on every request to the page, and replaced by billing's "Send a new link". A link names
 * the ticket, the customer's address and the ticket's link generation; raising the generation is
 * what revokes every earlier link, so no list of revoked tokens is kept.
 */
import { linkClaims, readLink, signLink, type LinkClaims } from '../domain/migration-link.js';
import { migrationLinkMail } from '../domain/migration-emails.js';
import { reached } from '../domain/migration.js';
import { insertOnce } from '../db/claims.js';
import { AppError } from '../errors.js';
import {
  customerEmailOf,
  emailMigrationCustomer,
  mailContext,
  recordBillingStep,
  type LinkIssuer,
} from './migration-record.js';
import type { MigrationDeps } from './migrations.js';
import { requireRole } from './roles.js';
import { findTicket, type Ticket } from './tickets.js';

export interface LinkSettings {
  /** PUBLIC_URL without a trailing slash. */
  publicUrl: string;
  ttlDays: number;
  /** Derived from the application key for links only (domain/migration-link.ts). */
  key: Buffer;
}

/** Why a link does not open the page, with the 4xx it is answered with; nothing else is said. */
export type LinkRefusal = { status: 404 | 410; why: 'invalid' | 'expired' | 'replaced' };

export class LinkRefused extends Error {
  constructor(readonly refusal: LinkRefusal) {
    super(`migration link refused: ${refusal.why}`);
    this.name = 'LinkRefused';
  }
}

export const generationOf = (ticket: Ticket): number => ticket.migration?.link?.generation ?? 1;

export function createLinkIssuer(
  settings: LinkSettings,
  now: () => Date,
): LinkIssuer & { tokenFor(ticket: Ticket): string | undefined } {
  const tokenFor = (ticket: Ticket) => {
    const email = customerEmailOf(ticket);
    if (!email) return undefined;
    return signLink(
      settings.key,
      linkClaims({ ref: ticket.ref, email, generation: generationOf(ticket), now: now(), ttlDays: settings.ttlDays }),
    );
  };
  return {
    tokenFor,
    linkFor: (ticket) => {
      const token = tokenFor(ticket);
      return token ? `${settings.publicUrl}/migrate/${token}` : undefined;
    },
  };
}

/**
 * The ticket a token opens, or LinkRefused: a bad signature, an expired token, a ticket that is not
 * a scheduled migration, an address that is no longer the customer's, or an older generation.
 */
export async function openLink(
  deps: Pick<MigrationDeps, 'models' | 'now'>,
  key: Buffer,
  token: string,
): Promise<{ ticket: Ticket; claims: LinkClaims }> {
  const check = readLink(key, token, deps.now?.() ?? new Date());
  if (!check.ok)
    throw new LinkRefused(check.why === 'expired' ? { status: 410, why: 'expired' } : { status: 404, why: 'invalid' });
  const { claims } = check;
  const ticket = (await deps.models.Ticket.findById(claims.ref).lean()) as Ticket | null;
  if (!ticket?.migration || ticket.kind !== 'migration' || !reached(ticket.migration.stage, 'scheduled'))
    throw new LinkRefused({ status: 404, why: 'invalid' });
  if (customerEmailOf(ticket)?.toLowerCase() !== claims.email) throw new LinkRefused({ status: 404, why: 'invalid' });
  if (claims.generation !== generationOf(ticket)) throw new LinkRefused({ status: 410, why: 'replaced' });
  return { ticket, claims };
}

/**
 * Billing's "Send a new link": the generation goes up by one (claimed under a unique key, so two
 * presses at once raise it once), every earlier link is refused from now on, and the customer is
 * emailed the new one.
 */
export async function sendNewLink(deps: MigrationDeps, input: { ref: string; userId: string }): Promise<string> {
  const ticket = await findTicket(deps.models, input.ref);
  await requireRole(deps.models, input.userId, ['billing'], `send a new link on ${ticket.ref}`);
  const m = ticket.migration;
  if (!m || ticket.kind !== 'migration' || !reached(m.stage, 'scheduled'))
    throw new AppError(
      'conflict',
      `${ticket.ref} has no migration page yet: confirm & schedule first. Nothing was changed.`,
    );
  if (!deps.links) throw new AppError('unavailable', 'Links are off: set PUBLIC_URL. Nothing was changed.');
  const to = customerEmailOf(ticket);
  if (!to)
    throw new AppError(
      'conflict',
      `${ticket.ref} has no customer email on file, so there is no one to send a link to. Nothing was changed.`,
    );
  const next = generationOf(ticket) + 1;
  if (
    !(await insertOnce(deps.models.MigrationEffect, {
      _id: `link:${ticket.ref}:${next}`,
      ref: ticket.ref,
      at: deps.now?.() ?? new Date(),
    }))
  ) {
    return `A new link was just sent on ${ticket.ref}; nothing changed.`;
  }
  const at = deps.now?.() ?? new Date();
  const updated = await recordBillingStep(
    deps,
    ticket.ref,
    { 'migration.link': { generation: next, at, by: `slack:${input.userId}` } },
    {},
    {
      at,
      actor: `slack:${input.userId}`,
      action: 'link_replaced',
      note: `New migration page link (number ${next}) emailed to ${to}; earlier links no longer open the page`,
    },
  );
  const ctx = mailContext(updated, deps.links);
  if (ctx.link)
    await emailMigrationCustomer(deps, updated, `link:${next}`, migrationLinkMail({ ...ctx, link: ctx.link }));
  deps.log.info(
    { event: 'migration.link_replaced', ref: ticket.ref, generation: next, actor: input.userId },
    'migration link replaced',
  );
  return `Sent: ${to} has a new link to the migration page of ${ticket.ref}; every earlier link now says it was replaced.`;
}
