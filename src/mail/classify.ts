/**
 * Which kind of ticket an inbound mail opens, by the ordered rules in rules.json (kept as data
 * so the billing and sales teams can read and review them), else by the mailbox it came to.
 */
import { z } from 'zod';
import { MAILBOXES, type Mailbox } from '../config.js';
import { findAccountId } from '../domain/account-id.js';
import { TICKET_KINDS, type TicketKind } from '../domain/ticket.js';
import rulesFile from './rules.json' with { type: 'json' };

export type ClassifyInput = { mailbox: Mailbox; subject: string; text: string };
export type Classification = { kind: TicketKind; accountId?: string; rule: string };

export type MailRule = { id: string; kind: TicketKind; mailboxes: Mailbox[]; subject: RegExp[]; body: RegExp[] };

const DEFAULT_KIND: Record<Mailbox, TicketKind> = {
  billing: 'billing',
  sales: 'sales',
  support: 'support',
  selfserve: 'support',
};
// What the customer asks is at the top; a long body is mostly quotes and signatures, and a
// bound keeps the rules' cost independent of the message size.
const MAX_BODY_CHARS = 20_000;

const pattern = z.string().refine((source) => {
  try {
    new RegExp(source, 'iu');
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

const RulesFile = z.object({
  rules: z
    .array(
      z
        .object({
          id: z.string().min(1),
          kind: z.enum(TICKET_KINDS),
          mailboxes: z.array(z.enum(MAILBOXES)).min(1),
          subject: z.array(pattern).default([]),
          body: z.array(pattern).default([]),
        })
        .refine((r) => r.subject.length + r.body.length > 0, 'a rule needs a subject or body pattern'),
    )
    .refine((rules) => new Set(rules.map((r) => r.id)).size === rules.length, 'rule ids must be unique'),
});

/** Validates and compiles a rules document; throws with every problem listed if it is invalid. */
export function compileRules(document: unknown): MailRule[] {
  const parsed = RulesFile.safeParse(document);
  if (!parsed.success) {
    throw new Error(
      `invalid mail rules: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data.rules.map((r) => ({
    ...r,
    subject: r.subject.map((s) => new RegExp(s, 'iu')),
    body: r.body.map((s) => new RegExp(s, 'iu')),
  }));
}

const RULES = compileRules(rulesFile);

export function classify(input: ClassifyInput, rules: MailRule[] = RULES): Classification {
  const subject = input.subject.replace(/\s+/g, ' ');
  const body = input.text.slice(0, MAX_BODY_CHARS).replace(/\s+/g, ' ');
  const accountId = findAccountId(input.subject) ?? findAccountId(body);
  const match = rules.find(
    (r) =>
      r.mailboxes.includes(input.mailbox) &&
      (r.subject.some((p) => p.test(subject)) || r.body.some((p) => p.test(body))),
  );
  const result: Classification = match
    ? { kind: match.kind, rule: match.id }
    : { kind: DEFAULT_KIND[input.mailbox], rule: `default:${input.mailbox}` };
  return accountId ? { ...result, accountId } : result;
}
