import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { isAccountId } from '../../src/domain/account-id.js';
import { isIsoDate, isPastDay } from '../../src/domain/migration.js';
import { isAppError, userFacing } from '../../src/errors.js';
import { MIGRATION_HANDOFF } from '../../views/ids.js';
import type { HandlerDeps } from '../types.js';
import { escapeText } from '../../views/format.js';
import { originChannel, tellSubmitter } from './tell-submitter.js';
import { inlineErrors, readFields } from './fields.js';

const F = MIGRATION_HANDOFF.fields;

/** Built per request: "not in the past" depends on today in TZ_BILLING. */
function handoffForm(today: string) {
  const required = (message: string) => z.string({ error: message });
  return z.object({
    [F.customerName]: required('Give the customer’s name.').max(200),
    [F.accountId]: required('Give the C4S account ID, e.g. R74-ZWR-R44Z.')
      .transform((s) => s.toUpperCase())
      .refine(isAccountId, 'Account IDs look like R74-ZWR-R44Z.'),
    [F.salespersonEmail]: required('Give the salesperson’s email.').pipe(z.email('That is not an email address.')),
    [F.enterprisePlan]: required('Name the Enterprise plan.').max(200),
    [F.enterpriseStartDate]: required('Pick the Enterprise start date.')
      .refine(isIsoDate, 'Pick the date with the date picker.')
      .refine((d) => !isPastDay(d, today), `The start date cannot be in the past (today is ${today}).`),
    [F.notes]: z.string().max(3000).optional(),
    [F.customerEmail]: z.email('That is not an email address.').optional(),
  });
}

/**
 * The sales rep's handoff. Field errors, the role and "already handed off" are answered inline
 * before the ack (one `_id` lookup each); routing and the billing post run after it.
 */
export function migrationHandoffSubmission(deps: HandlerDeps) {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const parsed = handoffForm(deps.services.migrations.today()).safeParse(
      readFields(view.state.values, Object.values(F)),
    );
    if (!parsed.success) {
      await ack({ response_action: 'errors', errors: inlineErrors(parsed.error) });
      return;
    }
    const userId = body.user.id;
    const form = parsed.data;
    try {
      await deps.services.migrations.checkHandoff({ userId, accountId: form[F.accountId], viewId: view.id });
    } catch (err) {
      if (!isAppError(err))
        deps.log.warn(
          { event: 'handoff.check_failed', user: userId, err: (err as Error).message },
          'handoff check failed',
        );
      const field = isAppError(err) && err.field ? err.field : F.customerName;
      await ack({ response_action: 'errors', errors: { [field]: userFacing(err) } });
      return;
    }
    await ack();
    const tell = tellSubmitter(client, deps.log, userId, originChannel(view.private_metadata));
    try {
      const { ticket, first } = await deps.services.migrations.handOff({
        userId,
        viewId: view.id,
        customerName: form[F.customerName],
        accountId: form[F.accountId],
        salespersonEmail: form[F.salespersonEmail],
        enterprisePlan: form[F.enterprisePlan],
        enterpriseStartDate: form[F.enterpriseStartDate],
        notes: form[F.notes],
        customerEmail: form[F.customerEmail],
      });
      if (first)
        await tell(
          `Handed off *${ticket.ref}* (${escapeText(form[F.customerName])}, ${escapeText(form[F.accountId])}) to billing, starting ${form[F.enterpriseStartDate]}.`,
        );
    } catch (err) {
      deps.log.warn({ event: 'handoff.failed', user: userId, err: (err as Error).message }, 'handoff not recorded');
      await tell(`${userFacing(err)} The handoff for ${form[F.accountId]} was not recorded.`);
    }
  };
}
