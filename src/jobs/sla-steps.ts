/**
 * The SLA escalation ladder as due work (jobs/due-work.ts): rows `sla.remind:<ref>:<target>`,
 * `sla.breach:…` and `sla.admins:…`, written when a ticket's timers start or resume, removed when
 * a response, a pause or closing makes them moot. The rows only wake the steps; what a step does
 * is decided when it runs, from the ticket as it is then (services/sla.ts), and each of its posts
 * is an outbox row keyed per ticket and target, so a re-run or a second process posts nothing twice.
 */
import { SLA_STEPS, type SlaStep } from '../domain/sla.js';
import type { DueWork } from './due-work.js';

export type SlaStepRunner = (step: SlaStep, key: string, data: Record<string, unknown>) => Promise<string>;

export interface SlaSteps {
  /** Sets what a due step does (bound once the SLA service exists; before the runner starts). */
  handle(run: SlaStepRunner): void;
}

export function createSlaSteps(due: DueWork): SlaSteps {
  let runner: SlaStepRunner | undefined;
  for (const step of SLA_STEPS) {
    due.register(`sla.${step}`, async (row) => {
      if (!runner) throw new Error('an SLA step fell due before the SLA service was bound');
      return runner(step, row.key, row.data);
    });
  }
  return {
    handle(run) {
      runner = run;
    },
  };
}
