import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { TEAMS } from '../../src/config.js';
import { userFacing } from '../../src/errors.js';
import { publishHome } from '../publish-home.js';
import type { HandlerDeps } from '../types.js';

const PageValue = z.string().transform((v, ctx) => {
  const [team, page] = v.split('|');
  const parsed = z
    .object({ team: z.enum(TEAMS), page: z.coerce.number().int().min(0).max(10_000) })
    .safeParse({ team, page });
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: 'bad page' });
    return z.NEVER;
  }
  return parsed.data;
});

/** App Home's queue pager: the same home with another page of that team's unowned tickets. */
export function homeQueuePage(deps: HandlerDeps) {
  return async ({
    ack,
    body,
    action,
    client,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const page = PageValue.safeParse(action.value);
    if (!page.success) return;
    await publishHome(deps, client, body.user.id, page.data);
  };
}

/** "I'm away" / "I'm back" on App Home: round-robin passes the person by while away. */
export function homeAwayToggle(deps: HandlerDeps) {
  return async ({
    ack,
    body,
    action,
    client,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const value = z.enum(['away', 'back']).safeParse(action.value);
    if (!value.success) return;
    try {
      await deps.services.sla.setAway(body.user.id, value.data === 'away');
      await publishHome(deps, client, body.user.id);
    } catch (err) {
      deps.log.info(
        { event: 'action.refused', action: 'away', user: body.user.id, err: (err as Error).message },
        'away toggle refused',
      );
      await client.chat.postMessage({ channel: body.user.id, text: userFacing(err) }).catch(() => undefined);
    }
  };
}
