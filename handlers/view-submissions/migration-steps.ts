import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import {
  CURRENCIES,
  PAYMENT_FAILURE_REASONS,
  PAYMENT_METHODS,
  parseAmount,
  paymentFailureText,
  type Step,
} from '../../src/domain/migration-steps.js';
import { isAppError, userFacing } from '../../src/errors.js';
import {
  MIGRATION_COMPLETE,
  MIGRATION_PAYMENT_FAILED,
  MIGRATION_PROJECTS,
  MIGRATION_SUMMARY,
} from '../../views/ids.js';
import { TicketRefValue } from '../../views/values.js';
import type { HandlerDeps } from '../types.js';
import { projectsForm as projectsFormFor } from './projects-form.js';
import { inlineErrors, readFields } from './fields.js';
import { originChannel, tellSubmitter } from './tell-submitter.js';

const Origin = z.object({ ref: TicketRefValue });

function readOrigin(privateMetadata: string | undefined) {
  try {
    return Origin.safeParse(JSON.parse(privateMetadata || '{}'));
  } catch {
    return Origin.safeParse({});
  }
}

/**
 * The skeleton of billing's step modals: fields checked with zod, then the role and the step rules
 * (a forged or stale submission, a failed payment) on the server, all answered inline before the
 * ack; the step runs after it and the person is told what happened.
 */
function stepSubmission<F extends z.ZodType>(
  deps: HandlerDeps,
  opts: {
    step: Step;
    fields: readonly string[];
    form: F;
    firstField: string;
    run: (
      form: z.output<F>,
      ctx: { ref: string; userId: string; viewId: string; client: AllMiddlewareArgs['client'] },
    ) => Promise<string>;
  },
) {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const userId = body.user.id;
    const origin = readOrigin(view.private_metadata);
    const parsed = opts.form.safeParse(readFields(view.state.values, opts.fields));
    if (!origin.success || !parsed.success) {
      await ack({
        response_action: 'errors',
        errors: parsed.success
          ? { [opts.firstField]: 'This form lost its ticket; close it and press the button again.' }
          : inlineErrors(parsed.error),
      });
      return;
    }
    const ref = origin.data.ref;
    try {
      await deps.services.migrations.checkStep(ref, userId, opts.step);
    } catch (err) {
      if (!isAppError(err))
        deps.log.warn(
          { event: 'migration.check_failed', step: opts.step, user: userId, err: (err as Error).message },
          'step check failed',
        );
      await ack({
        response_action: 'errors',
        errors: { [isAppError(err) && err.field ? err.field : opts.firstField]: userFacing(err) },
      });
      return;
    }
    await ack();
    const tell = tellSubmitter(client, deps.log, userId, originChannel(view.private_metadata));
    try {
      await tell(await opts.run(parsed.data, { ref, userId, viewId: view.id, client }));
    } catch (err) {
      deps.log.warn(
        { event: 'migration.step_failed', step: opts.step, ref, user: userId, err: (err as Error).message },
        'migration step not recorded',
      );
      await tell(`${userFacing(err)} Nothing was recorded on ${ref}.`);
    }
  };
}

const S = MIGRATION_SUMMARY.fields;
const summaryForm = z
  .object({
    [S.outcome]: z.enum(['credits', 'dues'], { error: 'Choose credits or an amount due.' }),
    [S.amount]: z.string().optional(),
    [S.currency]: z.enum(CURRENCIES).default('EUR'),
    [S.method]: z.enum(PAYMENT_METHODS).optional(),
    [S.payNow]: z.literal('yes').optional(),
    [S.note]: z.string().max(1000).optional(),
  })
  .superRefine((f, ctx) => {
    const cents = f[S.amount] === undefined ? undefined : parseAmount(f[S.amount]!);
    if (f[S.amount] !== undefined && cents === undefined)
      ctx.addIssue({
        code: 'custom',
        path: [S.amount],
        message: 'Write the amount like 1,250.00 (no currency sign, at most two decimals).',
      });
    if (f[S.outcome] === 'dues') {
      if (f[S.amount] === undefined)
        ctx.addIssue({ code: 'custom', path: [S.amount], message: 'Give the amount due.' });
      else if (cents === 0)
        ctx.addIssue({
          code: 'custom',
          path: [S.amount],
          message: 'An amount due must be more than 0; choose credits if nothing is owed.',
        });
      if (!f[S.method])
        ctx.addIssue({
          code: 'custom',
          path: [S.method],
          message: 'Choose the default payment method: card or eMandate.',
        });
      if (f[S.payNow] && f[S.method] !== 'emandate')
        ctx.addIssue({
          code: 'custom',
          path: [S.payNow],
          message: 'Paying now by card is offered to eMandate accounts only.',
        });
    } else if (f[S.method] || f[S.payNow]) {
      ctx.addIssue({ code: 'custom', path: [S.method], message: 'No payment method with credits: nothing is due.' });
    }
  });

/** Billing summary: credits, or dues and how they are paid. */
export function migrationSummarySubmission(deps: HandlerDeps) {
  return stepSubmission(deps, {
    step: 'summary',
    fields: Object.values(S),
    form: summaryForm,
    firstField: S.outcome,
    run: (f, { ref, userId, viewId }) =>
      deps.services.migrations.recordSummary({
        ref,
        userId,
        requestKey: viewId,
        outcome: f[S.outcome],
        ...(f[S.amount] !== undefined ? { amountCents: parseAmount(f[S.amount]!), currency: f[S.currency] } : {}),
        method: f[S.method],
        payNowByCard: f[S.payNow] === 'yes',
        note: f[S.note],
      }),
  });
}

const R = MIGRATION_PAYMENT_FAILED.fields;
const paymentFailedForm = z
  .object({
    [R.reason]: z.enum(PAYMENT_FAILURE_REASONS, { error: 'Choose why the payment failed.' }),
    [R.detail]: z.string().max(200, 'Keep it under 200 characters.').optional(),
  })
  .superRefine((f, ctx) => {
    if (f[R.reason] === 'other' && !f[R.detail])
      ctx.addIssue({ code: 'custom', path: [R.detail], message: 'Say why the payment failed: the customer is told.' });
  });

/** Payment failed, with the reason the card, App Home and the customer's email give. */
export function migrationPaymentFailedSubmission(deps: HandlerDeps) {
  return stepSubmission(deps, {
    step: 'payment',
    fields: Object.values(R),
    form: paymentFailedForm,
    firstField: R.reason,
    run: (f, { ref, userId, viewId }) =>
      deps.services.migrations.recordPayment({
        ref,
        userId,
        requestKey: viewId,
        status: 'failed',
        reason: paymentFailureText(f[R.reason], f[R.detail]),
      }),
  });
}

const P = MIGRATION_PROJECTS.fields;
const projectsForm = projectsFormFor(P, { liveRequired: true });

/** The live and test projects to migrate. */
export function migrationProjectsSubmission(deps: HandlerDeps) {
  return stepSubmission(deps, {
    step: 'projects',
    fields: Object.values(P),
    form: projectsForm,
    firstField: P.live,
    run: (f, { ref, userId, viewId }) =>
      deps.services.migrations.confirmProjects({ ref, userId, requestKey: viewId, live: f[P.live], test: f[P.test] }),
  });
}

const C = MIGRATION_COMPLETE.fields;
const SlackUser = z.string().regex(/^[UW][A-Z0-9]+$/);
const completeForm = z.object({
  [C.csm]: SlackUser.optional().refine((v) => v !== undefined, 'Choose the Customer Success Manager.'),
  [C.tam]: SlackUser.optional(),
  [C.kam]: SlackUser.optional(),
});

/** Completion, with the account team the salesperson introduces. */
export function migrationCompleteSubmission(deps: HandlerDeps) {
  return stepSubmission(deps, {
    step: 'complete',
    fields: Object.values(C),
    form: completeForm,
    firstField: C.csm,
    run: async (f, { ref, userId, client }) => {
      // The customer's page names the account team; Slack IDs mean nothing to them. No name, no line.
      const nameOf = async (id: string | undefined) =>
        id
          ? await client.users.info({ user: id }).then(
              (r) => r.user?.real_name || r.user?.name || undefined,
              () => undefined,
            )
          : undefined;
      const [csmName, tamName, kamName] = await Promise.all([nameOf(f[C.csm]), nameOf(f[C.tam]), nameOf(f[C.kam])]);
      return deps.services.migrations.complete({
        ref,
        userId,
        team: { csm: f[C.csm]!, tam: f[C.tam], kam: f[C.kam], names: { csm: csmName, tam: tamName, kam: kamName } },
      });
    },
  });
}
