/**
 * The SLA escalation ladder's kinds of due work (registered in jobs/index.ts): rows
 * `sla.remind:<ref>:<target>`, `sla.breach:…` and `sla.admins:…`, one per ticket and target at a
 * time, its next step, written when the timers start or resume (each step arms the next when it
 * runs), removed when a response, a pause or closing makes them moot. The rows only wake the
 * steps; what a step does is decided when it runs, from the ticket as it is then
 * (services/sla.ts), and each of its posts is an outbox row keyed per ticket and target, so a
 * re-run or a second process posts nothing twice.
 */
import type { SlaStep } from '../domain/sla.js';

export const slaDueKind = (step: SlaStep) => `sla.${step}`;
