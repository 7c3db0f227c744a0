/**
 * Service levels of tickets: timers started when a ticket opens (domain/sla.ts, in business time),
 * met by the first staff answer to the customer and by closing, paused while the ticket waits on
 * the customer; and the escalation ladder as due work (jobs/sla-steps.ts): a reminder in the
 * ticket's thread at 75 %, the breach post and the owner's DM at the target, the admins later.
 *
 * Each step posts once per ticket and target: its outbox rows are keyed `sla:<ref>:<target>:…`,
 * and the due row only wakes the step, which looks at the ticket again when it runs, so a ticket
 * answered, paused or closed meanwhile gets nothing (its rows are cancelled too, but a cancel can
 * race a run that already started; the fresh look is what holds).
 */
import { openForOf } from '../domain/ticket.js';
import type { Team } from '../config.js';
import type { Models } from '../db/models.js';
import { formatInstant } from '../domain/dates.js';
import { escapeText } from '../domain/slack-text.js';
import {
  resumedTimer,
  SLA_STEPS,
  SLA_TARGETS,
  startTimers,
  stepTimes,
  TARGET_LABELS,
  type SlaState,
  type SlaStep,
  type SlaTarget,
} from '../domain/sla.js';
import type { SlaRules } from '../domain/sla-policy.js';
import type { TicketKind } from '../domain/ticket.js';
import type { DueWork } from '../jobs/due-work.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Ticket } from './tickets.js';
import type { Outbox } from './outbox.js';
import { nextMember } from './assignment.js';

import { slaDueKind } from '../jobs/sla-steps.js';

/** What ticket and email code tells the service levels; every call is safe to repeat. */
export interface SlaHooks {
  /** The timers of a new ticket (stored with it when it is created). */
  timersFor(
    ticket: { kind: TicketKind; source: { channel: string; mailbox?: string | undefined } },
    at: Date,
  ): SlaState;
  /** The ticket is stored: its escalation steps are armed. */
  started(ref: string): Promise<void>;
  /** Staff answered the customer (a reply from Slack, a migration or plan step's email). */
  responded(ref: string): Promise<void>;
  /** The ticket waits on the customer: the clocks stop and pending steps are cancelled. */
  paused(ref: string): Promise<void>;
  /** The customer wrote again: the clocks go on with what was left. */
  resumed(ref: string): Promise<void>;
  closed(ref: string): Promise<void>;
  reopened(ref: string): Promise<void>;
}

export interface SlaDeps {
  models: Models;
  outbox: Outbox;
  due: DueWork;
  rules: SlaRules;
  assign: Record<Team, 'off' | 'round-robin'>;
  timeZone: string;
  log: Logger;
  metrics?: Metrics | undefined;
  now: () => Date;
}

const stepKey = (ref: string, target: SlaTarget) => `${ref}:${target}`;

async function loadTicket(models: Models, ref: string): Promise<Ticket | null> {
  return (await models.Ticket.findById(ref).lean()) as Ticket | null;
}

function slaOf(ticket: Ticket | null): SlaState | undefined {
  return (ticket?.sla ?? undefined) as SlaState | undefined;
}

/** The hooks, and the work of a due step (registered in jobs/index.ts). */
export type Sla = SlaHooks & { runStep(step: SlaStep, key: string, data: Record<string, unknown>): Promise<string> };

export function createSla(deps: SlaDeps): Sla {
  const { models, due, rules, now } = deps;
  const log = deps.log.child({ component: 'sla' });

  /**
   * Arms the ladder of each running target at its first step (the reminder, or the breach when the
   * reminder is behind it); each step arms the next when it runs. One row per target at a time:
   * on FerretDB every query of the due rows reads the whole collection, so it is kept small.
   * A step whose time has passed runs at once, and its posts' keys make a repeat harmless.
   */
  async function arm(ref: string, sla: SlaState, targets: readonly SlaTarget[] = SLA_TARGETS): Promise<void> {
    for (const target of targets) {
      const times = stepTimes(sla[target], rules.hours, rules.adminsAfterBreach);
      const first = SLA_STEPS.find((step) => times[step]);
      for (const step of SLA_STEPS) {
        const at = times[step];
        if (step === first && at)
          await due.schedule(slaDueKind(step), stepKey(ref, target), at, { at: at.toISOString() });
        else await due.cancel(slaDueKind(step), stepKey(ref, target));
      }
    }
  }

  /** After `step` ran for a target, the next step of its ladder falls due. */
  async function armNext(ref: string, sla: SlaState, target: SlaTarget, step: SlaStep): Promise<void> {
    const next = SLA_STEPS[SLA_STEPS.indexOf(step) + 1];
    const at = next ? stepTimes(sla[target], rules.hours, rules.adminsAfterBreach)[next] : undefined;
    if (next && at) await due.schedule(slaDueKind(next), stepKey(ref, target), at, { at: at.toISOString() });
  }

  async function disarm(ref: string, targets: readonly SlaTarget[] = SLA_TARGETS): Promise<void> {
    for (const target of targets)
      for (const step of SLA_STEPS) await due.cancel(slaDueKind(step), stepKey(ref, target));
  }

  async function cardUpdate(ref: string, why: string): Promise<void> {
    await deps.outbox.enqueue({
      key: `ticket-card:${ref}:sla:${why}`,
      channel: 'slack',
      kind: 'update',
      payload: { type: 'ticket_card', ref },
      ticketRef: ref,
    });
  }

  /** Who is told in the thread: the owner, or the team's members when nobody owns it. */
  async function mentionsFor(ticket: Ticket): Promise<string> {
    if (ticket.assignee) return `<@${ticket.assignee}>`;
    const members = await models.Role.find({ roles: ticket.team }).sort({ _id: 1 }).select({ _id: 1 }).limit(10).lean();
    return members.length ? members.map((m) => `<@${m._id}>`).join(' ') : `the ${ticket.team} team`;
  }

  /** The silent owner of a round-robin team is replaced by the next member at the reminder. */
  async function replaceSilentOwner(ticket: Ticket): Promise<Ticket> {
    const team = ticket.team as Team;
    if (!rules.replaceSilentOwner || deps.assign[team] !== 'round-robin' || !ticket.assignee) return ticket;
    const key = `sla-replace:${ticket.ref}`;
    if (ticket.history.some((h) => h.key === key)) return ticket;
    const next = await nextMember(models, team, ticket.assignee);
    if (!next) return ticket;
    const note = `no answer to the customer by ${Math.round(rules.reminderAt * 100)} % of the first-response target: <@${ticket.assignee}> → <@${next}>`;
    const updated = (await models.Ticket.findOneAndUpdate(
      { _id: ticket.ref },
      {
        $set: {
          assignee: next,
          status: 'claimed',
          openFor: openForOf({ ...ticket, assignee: next, status: 'claimed' }),
        },
        $push: { history: { at: now(), actor: 'system', action: 'reassigned', note, key } },
      },
      { returnDocument: 'after' },
    ).lean()) as Ticket | null;
    await cardUpdate(ticket.ref, 'replaced');
    log.info(
      { event: 'sla.owner_replaced', ref: ticket.ref, from: ticket.assignee, to: next },
      'silent owner replaced',
    );
    return updated ?? ticket;
  }

  async function runStep(step: SlaStep, key: string, data: Record<string, unknown>): Promise<string> {
    const [ref, target] = key.split(':') as [string, SlaTarget];
    if (!SLA_TARGETS.includes(target)) return 'unknown target';
    let ticket = await loadTicket(models, ref);
    const sla = slaOf(ticket);
    // Looked at afresh: whatever happened since the row was written decides.
    if (!ticket || !sla) return 'no ticket';
    if (ticket.status === 'closed') return 'closed';
    const timer = sla[target];
    if (timer.metAt) return 'met';
    if (sla.pausedAt) return 'paused';
    const expected = stepTimes(timer, rules.hours, rules.adminsAfterBreach)[step];
    if (!expected || expected.toISOString() !== data.at) return 'stale';
    const label = TARGET_LABELS[target];
    const when = formatInstant(timer.dueAt, deps.timeZone);
    const title = `*${ticket.ref}* ${escapeText(ticket.title.slice(0, 150))}`;
    if (step === 'remind') {
      if (target === 'firstResponse') ticket = await replaceSilentOwner(ticket);
      await deps.outbox.enqueue({
        key: `sla:${ref}:${target}:remind`,
        channel: 'slack',
        kind: 'thread_reply',
        payload: {
          type: 'thread_reply',
          ref,
          text: `:alarm_clock: ${await mentionsFor(ticket)}: the ${label} on ${ticket.ref} is due at ${when}.`,
        },
        ticketRef: ref,
      });
      await armNext(ref, sla, target, step);
      return 'reminded';
    }
    if (step === 'breach') {
      const breachKey = `sla-breach:${ref}:${target}`;
      if (!ticket.history.some((h) => h.key === breachKey)) {
        await models.Ticket.updateOne(
          { _id: ref },
          {
            $set: { [`sla.${target}.breachedAt`]: now() },
            $push: {
              history: {
                at: now(),
                actor: 'system',
                action: 'sla_breached',
                note: `${label} target missed (due ${when})`,
                key: breachKey,
              },
            },
          },
        );
      }
      const posted = await deps.outbox.enqueue({
        key: `sla:${ref}:${target}:breach`,
        channel: 'slack',
        kind: 'post',
        payload: {
          type: 'escalation',
          ref,
          text: `:rotating_light: ${title}: the ${label} target was missed (due ${when}). Owner: ${ticket.assignee ? `<@${ticket.assignee}>` : 'nobody'}.`,
        },
        ticketRef: ref,
      });
      // Counted by the process whose row went in: once per ticket and target across processes.
      if (posted) deps.metrics?.slaBreached.inc({ kind: ticket.kind, target });
      if (ticket.assignee) {
        await deps.outbox.enqueue({
          key: `sla:${ref}:${target}:breach-dm`,
          channel: 'slack',
          kind: 'dm',
          payload: {
            type: 'direct_message',
            user: ticket.assignee,
            text: `:rotating_light: You own ${title}; its ${label} target was missed (due ${when}).`,
          },
          ticketRef: ref,
        });
      }
      await cardUpdate(ref, `breach:${target}`);
      log.info({ event: 'sla.breached', ref, target, kind: ticket.kind }, 'SLA target missed');
      await armNext(ref, sla, target, step);
      return 'breached';
    }
    const admins = await models.Role.find({ roles: 'admin' }).sort({ _id: 1 }).select({ _id: 1 }).limit(10).lean();
    for (const admin of admins) {
      await deps.outbox.enqueue({
        key: `sla:${ref}:${target}:admins:${admin._id}`,
        channel: 'slack',
        kind: 'dm',
        payload: {
          type: 'direct_message',
          user: admin._id,
          text: `:rotating_light: ${title} (${ticket.team}) still has no ${label}: it was due ${when}. Owner: ${ticket.assignee ? `<@${ticket.assignee}>` : 'nobody'}.`,
        },
        ticketRef: ref,
      });
    }
    return `told ${admins.length} admins`;
  }

  return {
    timersFor(ticket, at) {
      return startTimers(
        rules.policyFor({
          kind: ticket.kind,
          source: { channel: ticket.source.channel, mailbox: ticket.source.mailbox as never },
        }),
        at,
        rules.hours,
        rules.reminderAt,
      );
    },
    async started(ref) {
      const sla = slaOf(await loadTicket(models, ref));
      if (sla && !sla.pausedAt) await arm(ref, sla);
    },
    async responded(ref) {
      const ticket = await loadTicket(models, ref);
      const sla = slaOf(ticket);
      if (!sla || sla.firstResponse.metAt) return;
      await models.Ticket.updateOne({ _id: ref }, { $set: { 'sla.firstResponse.metAt': now() } });
      await disarm(ref, ['firstResponse']);
    },
    async paused(ref) {
      const ticket = await loadTicket(models, ref);
      const sla = slaOf(ticket);
      if (!sla || sla.pausedAt || ticket?.status === 'closed') return;
      await models.Ticket.updateOne({ _id: ref }, { $set: { 'sla.pausedAt': now() } });
      await disarm(ref);
    },
    async resumed(ref) {
      const ticket = await loadTicket(models, ref);
      const sla = slaOf(ticket);
      if (!sla?.pausedAt) return;
      const at = now();
      const next: SlaState = {
        ...sla,
        firstResponse: resumedTimer(sla.firstResponse, sla.pausedAt, at, rules.hours),
        resolution: resumedTimer(sla.resolution, sla.pausedAt, at, rules.hours),
        pausedAt: null,
      };
      await models.Ticket.updateOne(
        { _id: ref },
        {
          $set: { 'sla.firstResponse': next.firstResponse, 'sla.resolution': next.resolution },
          $unset: { 'sla.pausedAt': '' },
        },
      );
      await arm(ref, next);
    },
    async closed(ref) {
      const sla = slaOf(await loadTicket(models, ref));
      if (!sla) return;
      if (!sla.resolution.metAt)
        await models.Ticket.updateOne({ _id: ref }, { $set: { 'sla.resolution.metAt': now() } });
      await disarm(ref);
    },
    async reopened(ref) {
      await models.Ticket.updateOne({ _id: ref, sla: { $exists: true } }, { $inc: { 'sla.reopened': 1 } });
    },
    runStep,
  };
}
