/**
 * A ticket's service-level timers, free of I/O: when each target (first response, resolution) is
 * due and when its reminder falls, how a pause while waiting on the customer moves them, and how
 * they read on a card. Times are instants; the business-time arithmetic is business-hours.ts.
 */
import { addBusinessMinutes, businessMinutesBetween, formatSpan, type BusinessHours } from './business-hours.js';
import type { SlaPolicy } from './sla-policy.js';

export const SLA_TARGETS = ['firstResponse', 'resolution'] as const;
export type SlaTarget = (typeof SLA_TARGETS)[number];
export const SLA_STEPS = ['remind', 'breach', 'admins'] as const;
export type SlaStep = (typeof SLA_STEPS)[number];

export const TARGET_LABELS: Record<SlaTarget, string> = { firstResponse: 'first response', resolution: 'resolution' };

export interface SlaTimer {
  /** The target in business minutes. */
  targetMinutes: number;
  /** The reminder's time (unset once a pause began after it). */
  remindAt?: Date | null | undefined;
  dueAt: Date;
  /** When the target was met (first staff reply; closing). */
  metAt?: Date | null | undefined;
  /** When the breach was posted. */
  breachedAt?: Date | null | undefined;
}

export interface SlaState {
  policy: string;
  firstResponse: SlaTimer;
  resolution: SlaTimer;
  /** Set while the ticket waits on the customer: the clocks stand still. */
  pausedAt?: Date | null | undefined;
}

export function startTimers(policy: SlaPolicy, at: Date, hours: BusinessHours, reminderAt: number): SlaState {
  const timer = (minutes: number): SlaTimer => ({
    targetMinutes: minutes,
    remindAt: addBusinessMinutes(at, minutes * reminderAt, hours),
    dueAt: addBusinessMinutes(at, minutes, hours),
  });
  return { policy: policy.name, firstResponse: timer(policy.firstResponse), resolution: timer(policy.resolution) };
}

/**
 * The timers after a pause that began at `pausedAt` ends at `at`: what was left of each target
 * (and of the time to its reminder) when the pause began is counted again from `at`.
 */
export function resumedTimer(timer: SlaTimer, pausedAt: Date, at: Date, hours: BusinessHours): SlaTimer {
  if (timer.metAt) return timer;
  const leftToDue = businessMinutesBetween(pausedAt, timer.dueAt, hours);
  const leftToRemind = timer.remindAt ? businessMinutesBetween(pausedAt, timer.remindAt, hours) : 0;
  // A target already overdue when the pause began stays overdue by as much.
  const dueAt =
    leftToDue > 0
      ? addBusinessMinutes(at, leftToDue, hours)
      : new Date(at.getTime() - (pausedAt.getTime() - timer.dueAt.getTime()));
  return { ...timer, dueAt, remindAt: leftToRemind > 0 ? addBusinessMinutes(at, leftToRemind, hours) : null };
}

/** When each escalation step of a running target falls (none for a met target). */
export function stepTimes(
  timer: SlaTimer,
  hours: BusinessHours,
  adminsAfterBreach: number,
): Partial<Record<SlaStep, Date>> {
  if (timer.metAt) return {};
  return {
    ...(timer.remindAt ? { remind: timer.remindAt } : {}),
    breach: timer.dueAt,
    admins: addBusinessMinutes(timer.dueAt, adminsAfterBreach, hours),
  };
}

/** The timer that matters now: the first response until it is met, then the resolution. */
export function currentTarget(sla: SlaState): SlaTarget | undefined {
  if (!sla.firstResponse.metAt) return 'firstResponse';
  if (!sla.resolution.metAt) return 'resolution';
  return undefined;
}

/** "first response due in 1 h 20 m", "resolution overdue by 15 m", "clock paused…"; with `overdue` for red. */
export function timerLine(sla: SlaState, now: Date): { text: string; overdue: boolean } | undefined {
  const target = currentTarget(sla);
  if (!target) return undefined;
  const label = TARGET_LABELS[target];
  if (sla.pausedAt) return { text: `${label} clock paused while waiting on the customer`, overdue: false };
  const left = sla[target].dueAt.getTime() - now.getTime();
  return left >= 0
    ? { text: `${label} due in ${formatSpan(left)}`, overdue: false }
    : { text: `${label} overdue by ${formatSpan(-left)}`, overdue: true };
}

/** Whether a target was met in time (undefined while it still runs and is not yet late). */
export function metInTime(timer: SlaTimer, now: Date): boolean | undefined {
  if (timer.metAt) return timer.metAt.getTime() <= timer.dueAt.getTime() && !timer.breachedAt;
  return now.getTime() > timer.dueAt.getTime() ? false : undefined;
}
