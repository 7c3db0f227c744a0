/** What customers are told about plan changes (scheduled, cancelled, applied), as pure text builders. */
import { staffLine, ticketSubject, type RenderedMail } from './email-templates.js';
import type { InvoiceLine } from './plan-periods.js';
import { formatCents } from './price-book.js';

interface Common {
  ref: string;
  /** The ticket's title: the subject the conversation already has. */
  subject: string;
  accountId: string;
  accountName: string;
}

const footer = (ref: string) => ['', `Reference: ${ref}. Please keep it in the subject when you reply.`, ''];

export function changeScheduledMail(i: Common & { summary: string }): RenderedMail {
  const text = [
    `Hello ${staffLine(i.accountName)},`,
    '',
    `A change to your account ${i.accountId} has been scheduled:`,
    '',
    `  ${i.summary}`,
    '',
    'If this is not what you want, reply to this email before that date and we will cancel it.',
    ...footer(i.ref),
  ].join('\n');
  return { subject: ticketSubject(i.ref, i.subject), text };
}

export function changeCancelledMail(i: Common & { summary: string; why: string }): RenderedMail {
  const text = [
    `Hello ${staffLine(i.accountName)},`,
    '',
    `The change scheduled for your account ${i.accountId} has been cancelled and will not happen:`,
    '',
    `  ${i.summary}`,
    '',
    `Why: ${staffLine(i.why)}`,
    ...footer(i.ref),
  ].join('\n');
  return { subject: ticketSubject(i.ref, i.subject), text };
}

export function changeAppliedMail(
  i: Common & {
    summary: string;
    invoice?: { lines: InvoiceLine[]; totalCents: number; periodEnd: string } | undefined;
  },
): RenderedMail {
  const invoice =
    i.invoice && i.invoice.lines.length > 0
      ? [
          '',
          `Invoice (prorated until ${i.invoice.periodEnd}):`,
          ...i.invoice.lines.map((l) => `  ${l.description}: ${formatCents(l.cents)}`),
          `  Total: ${formatCents(i.invoice.totalCents)}`,
        ]
      : [];
  const text = [
    `Hello ${staffLine(i.accountName)},`,
    '',
    `This confirms a change to your account ${i.accountId}, now in effect:`,
    '',
    `  ${i.summary}`,
    ...invoice,
    ...footer(i.ref),
  ].join('\n');
  return { subject: ticketSubject(i.ref, i.subject), text };
}
