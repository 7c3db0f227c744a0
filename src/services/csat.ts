/**
 * Customer satisfaction (CSAT_<TEAM>=on): closing a ticket that came by email sends the customer a
 * closing email with two signed links, good and not good; the first click is recorded (a unique
 * insert per ticket), any later one is told it was already counted; the score joins `/ticket stats`.
 */
import type { Mailbox, Team } from '../config.js';
import { claimOnce } from '../db/claims.js';
import type { Models } from '../db/models.js';
import { closingMail } from '../domain/email-templates.js';
import { CSAT_VALID_DAYS, csatPath, readCsatPath } from '../domain/csat.js';
import type { Logger } from '../logger.js';
import { conversationIds, enqueueTicketEmail, type EmailDeps } from './email.js';
import type { Ticket } from './tickets.js';

export interface CsatDeps extends EmailDeps {
  models: Models;
  log: Logger;
  csat: Record<Team, boolean>;
  /** Where customers reach the bot's pages (PUBLIC_URL, or the local address). */
  publicUrl: () => string;
}

export interface CsatHooks {
  /** A ticket was closed: its customer gets the closing email (with the links when the team asks). */
  closed(ticket: Ticket): Promise<void>;
}

export function createCsat(deps: CsatDeps) {
  const { now } = deps;
  return {
    async closed(ticket: Ticket): Promise<void> {
      if (
        !deps.csat[ticket.team as Team] ||
        ticket.source?.channel !== 'email' ||
        !ticket.source.email ||
        !ticket.source.mailbox
      )
        return;
      const expires = now().getTime() + CSAT_VALID_DAYS * 86_400_000;
      const base = deps.publicUrl();
      const rendered = closingMail({
        ref: ticket.ref,
        subject: ticket.title,
        goodUrl: `${base}${csatPath(deps.appKey, ticket.ref, 'good', expires)}`,
        badUrl: `${base}${csatPath(deps.appKey, ticket.ref, 'bad', expires)}`,
      });
      const ids = await conversationIds(deps.models, ticket.ref);
      // Once per ticket: a ticket closed again after a reopening does not ask twice.
      await enqueueTicketEmail(deps, {
        key: `csat:${ticket.ref}`,
        ref: ticket.ref,
        mailbox: ticket.source.mailbox as Mailbox,
        to: ticket.source.email,
        subject: rendered.subject,
        text: rendered.text,
        inReplyTo: ids.at(-1),
        references: ids,
        automatic: true,
      });
    },
    /** A click on a link: what the customer's page says. */
    async answer(path: string): Promise<{ status: number; line: string }> {
      const link = readCsatPath(deps.appKey, path, now());
      if (!link.ok)
        return link.why === 'expired'
          ? { status: 410, line: 'This link has expired. Thank you all the same.' }
          : { status: 403, line: 'This link is not valid.' };
      const ticket = await deps.models.Ticket.findById(link.ref).select({ _id: 1 }).lean();
      if (!ticket) return { status: 404, line: 'We could not find this request.' };
      const got = await claimOnce(
        deps.models.CsatAnswer,
        { _id: link.ref, score: link.answer, at: now() },
        { readExisting: false },
      );
      if (!got.won) return { status: 200, line: 'Your answer was already recorded. Thank you!' };
      await deps.models.Ticket.updateOne(
        { _id: link.ref },
        {
          $set: { csat: { score: link.answer, at: now() } },
          $push: {
            history: {
              at: now(),
              actor: 'customer',
              action: 'csat',
              note: link.answer === 'good' ? 'rated the answer good' : 'rated the answer not good',
            },
          },
        },
      );
      deps.log.info({ event: 'csat.answered', ref: link.ref, score: link.answer }, 'CSAT answer recorded');
      return { status: 200, line: 'Thank you! Your answer was recorded.' };
    },
  };
}
export type Csat = ReturnType<typeof createCsat>;
