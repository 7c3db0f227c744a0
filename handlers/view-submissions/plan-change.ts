import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { userFacing } from '../../src/errors.js';
import type { HandlerDeps } from '../types.js';
import { FIELD_BLOCK, PlanForm, planState } from '../plan-form.js';
import { originChannel, tellSubmitter } from './tell-submitter.js';

/**
 * The `/plan` submission. Bad fields, the role (re-checked here: the modal is only a form) and every
 * rule that refuses are answered inline before the ack, changing nothing; then the change is made
 * (keyed by the view, so a retry is the same change) and the submitter is told what happened.
 */
export function planChangeSubmission(deps: HandlerDeps) {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const userId = body.user.id;
    const form = PlanForm.safeParse(planState(view.state.values));
    if (!form.success) {
      const errors: Record<string, string> = {};
      for (const issue of form.error.issues) {
        const block = FIELD_BLOCK[String(issue.path[0])];
        if (block && !errors[block]) errors[block] = issue.message;
      }
      await ack({ response_action: 'errors', errors });
      return;
    }
    const f = form.data;
    const request = {
      type: f.change,
      tier: f.tier,
      addon: f.addon,
      reason: f.reason,
      confirm: f.confirm,
      region: f.region,
    };
    try {
      const preview = await deps.services.plans.preview({ userId, accountId: f.accountId, request });
      if (!preview.ok) {
        deps.log.info(
          { event: 'plan.refused', user: userId, accountId: f.accountId, type: f.change, field: preview.field },
          'plan change refused',
        );
        await ack({ response_action: 'errors', errors: { [preview.field]: preview.message } });
        return;
      }
    } catch (err) {
      deps.log.warn({ event: 'plan.check_failed', user: userId, err: (err as Error).message }, 'plan check failed');
      await ack({ response_action: 'errors', errors: { [FIELD_BLOCK.change!]: userFacing(err) } });
      return;
    }
    await ack();
    const tell = tellSubmitter(client, deps.log, userId, originChannel(view.private_metadata));
    try {
      const result = await deps.services.plans.request({
        userId,
        accountId: f.accountId,
        request,
        requestKey: view.id,
      });
      await tell(result.message);
    } catch (err) {
      deps.log.warn(
        {
          event: 'plan.request_failed',
          user: userId,
          accountId: f.accountId,
          type: f.change,
          err: (err as Error).message,
        },
        'plan change not made',
      );
      await tell(`${userFacing(err)} (${f.change} for ${f.accountId})`);
    }
  };
}
