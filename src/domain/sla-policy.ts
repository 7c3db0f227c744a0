/**
 * The service-level policies (sla-policies.json, kept as data so the teams can read and review
 * them): which targets a new ticket gets, the business hours they are counted in and the
 * escalation ladder. Validated once at load; a bad file stops the process at start.
 */
import { z } from 'zod';
import { MAILBOXES, type Mailbox } from '../config.js';
import { isIsoDate } from './dates.js';
import { parseClock, type BusinessHours } from './business-hours.js';
import { TICKET_KINDS, type TicketKind } from './ticket.js';
import policiesFile from './sla-policies.json' with { type: 'json' };

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** `90m`, `4h`, `2d` (business days): parsed later, once the length of a business day is known. */
const Duration = z.string().regex(/^\d+(\.\d+)?[mhd]$/, 'a duration such as 30m, 4h or 2d');
const Clock = z.string().refine((v) => parseClock(v) !== undefined, 'a time such as 09:00');

const PolicyFile = z.object({
  $comment: z.string().optional(),
  businessHours: z
    .object({
      days: z.array(z.enum(WEEKDAYS)).min(1),
      open: Clock,
      close: Clock,
      holidays: z.array(z.string().refine(isIsoDate, 'a date such as 2026-12-25')).default([]),
    })
    .refine((h) => parseClock(h.close)! > parseClock(h.open)!, 'close must be after open'),
  escalation: z.object({
    reminderAt: z.number().gt(0).lt(1),
    adminsAfterBreach: Duration,
    replaceSilentOwner: z.boolean().default(false),
  }),
  policies: z
    .array(
      z.object({
        name: z.string().min(1),
        kinds: z.array(z.enum(TICKET_KINDS)).optional(),
        source: z.enum(['email', 'slack']).optional(),
        mailboxes: z.array(z.enum(MAILBOXES)).optional(),
        firstResponse: Duration,
        resolution: Duration,
      }),
    )
    .min(1)
    .refine((list) => {
      const last = list.at(-1)!;
      return !last.kinds && !last.source && !last.mailboxes;
    }, 'the last policy must match every ticket (no kinds, source or mailboxes)'),
});
export type PolicyFileData = z.infer<typeof PolicyFile>;

/** A ticket's targets, in business minutes. */
export interface SlaPolicy {
  name: string;
  firstResponse: number;
  resolution: number;
}

export interface SlaRules {
  /** Business hours in TZ_BILLING. */
  hours: BusinessHours;
  reminderAt: number;
  /** Business minutes after a breach at which the admins are told. */
  adminsAfterBreach: number;
  replaceSilentOwner: boolean;
  policyFor(ticket: { kind: TicketKind; source: { channel: string; mailbox?: Mailbox | null | undefined } }): SlaPolicy;
}

function minutesOf(duration: string, dayMinutes: number): number {
  const value = Number(duration.slice(0, -1));
  const unit = duration.at(-1);
  return Math.round(unit === 'd' ? value * dayMinutes : unit === 'h' ? value * 60 : value);
}

/** Builds the rules from a policy file's content (the bundled one by default) for TZ_BILLING. */
export function loadSlaRules(timeZone: string, data: unknown = policiesFile): SlaRules {
  const parsed = PolicyFile.safeParse(data);
  if (!parsed.success)
    throw new Error(
      `sla-policies.json: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const file = parsed.data;
  const open = parseClock(file.businessHours.open)!;
  const close = parseClock(file.businessHours.close)!;
  const hours: BusinessHours = {
    timeZone,
    days: file.businessHours.days.map((d) => WEEKDAYS.indexOf(d) + 1),
    open,
    close,
    holidays: new Set(file.businessHours.holidays),
  };
  const dayMinutes = close - open;
  const policies = file.policies.map((p) => ({
    ...p,
    firstResponse: minutesOf(p.firstResponse, dayMinutes),
    resolution: minutesOf(p.resolution, dayMinutes),
  }));
  return {
    hours,
    reminderAt: file.escalation.reminderAt,
    adminsAfterBreach: minutesOf(file.escalation.adminsAfterBreach, dayMinutes),
    replaceSilentOwner: file.escalation.replaceSilentOwner,
    policyFor(ticket) {
      const match = policies.find(
        (p) =>
          (!p.kinds || p.kinds.includes(ticket.kind)) &&
          (!p.source || p.source === ticket.source.channel) &&
          (!p.mailboxes || (ticket.source.mailbox ? p.mailboxes.includes(ticket.source.mailbox) : false)),
      )!;
      return { name: match.name, firstResponse: match.firstResponse, resolution: match.resolution };
    },
  };
}
