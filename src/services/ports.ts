/**
 * The ports: everything the services need from outside them, in one place. Services import these,
 * never `src/jobs/`; `src/app.ts` builds what implements them and hands it to `createServices`:
 *
 * | port | implemented by |
 * |---|---|
 * | `MigrationJobs`, `PlanJobs` (work due later) | due rows, `duePorts` in `src/jobs/index.ts` |
 * | `BillingPort` | `src/billing/` (ledger or signed webhook) |
 * | `Outbox` (side effects) | `services/outbox.ts`, delivered by `src/jobs/outbox.ts` |
 * | `Clock` (the app's time; services take its `now`) | `src/clock.ts` |
 */
import type { OutboxEntry } from './outbox.js';

export type { Clock } from '../clock.js';
export {
  BillingUnavailable,
  type BillingChange,
  type BillingEventType,
  type BillingPort,
  type BillingResult,
} from '../billing/port.js';

export interface Outbox {
  /** Stores the entry once (by key) and asks for delivery. Returns false if it was already there. */
  enqueue(entry: OutboxEntry): Promise<boolean>;
}

/** What the migration service needs of the scheduler: the C4S cancellation, one due row per ticket. */
export interface MigrationJobs {
  /** Schedules the cancellation for `ref` at `runAt`, replacing any earlier one for that ticket. */
  schedule(ref: string, runAt: Date): Promise<void>;
  /** Removes the ticket's scheduled cancellation; returns how many were removed. */
  unschedule(ref: string): Promise<number>;
  /** The cancellation could not be done yet (`error`): it runs again at `at`, still for its own time `runAt`. */
  retry(ref: string, at: Date, opts: { error: string; runAt: Date }): Promise<void>;
}

/** What the plan service needs of the scheduler: one due row per scheduled change. */
export interface PlanJobs {
  /** The change falls due at `at` (app clock); replaces the time it had. */
  schedule(changeId: string, at: Date): Promise<void>;
  /** The change failed to apply (`error`); it is tried again at `at`. */
  retry(changeId: string, at: Date, error: string): Promise<void>;
  /** Writes the change's due row unless it has one; true when it was missing. */
  ensure(changeId: string, at: Date): Promise<boolean>;
  /** Removes the change's due row; returns how many were removed. */
  unschedule(changeId: string): Promise<number>;
}
