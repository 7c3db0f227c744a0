import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { planModal } from '../../views/plan-modal.js';
import { planState, previewText } from '../plan-form.js';
import type { HandlerDeps } from '../types.js';

/**
 * A choice in the `/plan` modal (account, change, tier, add-on, region): the modal is rebuilt with
 * the fields that change needs and the preview of what will happen and when (date, amount).
 */
export function planModalRefresh(deps: HandlerDeps) {
  return async ({ ack, body, client }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const view = body.view;
    if (!view) return;
    const userId = body.user.id;
    try {
      const state = planState(view.state.values);
      const preview = await previewText(deps, userId, state);
      await client.views.update({
        view_id: view.id,
        hash: view.hash,
        view: planModal({
          privateMetadata: view.private_metadata,
          state,
          preview,
          timeZone: deps.services.plans.timeZone,
        }),
      });
    } catch (err) {
      // A hash conflict means a newer choice is already on its way; anything else is logged.
      deps.log.info(
        { event: 'plan.preview_failed', user: userId, err: (err as Error).message },
        'plan preview not updated',
      );
    }
  };
}
