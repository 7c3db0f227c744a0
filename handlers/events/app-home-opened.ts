import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { isAppError, userFacing } from '../../src/errors.js';
import { homeView, refusedHomeView } from '../../views/home.js';
import type { HandlerDeps } from '../types.js';

/** App Home: a staff member's tickets and migration queues; anyone else is told whom to ask. */
export function appHomeOpened(deps: HandlerDeps) {
  return async ({ event, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    try {
      const [tickets, migrations] = await Promise.all([deps.services.tickets.mine(event.user), deps.services.migrations.home(event.user)]);
      await client.views.publish({ user_id: event.user, view: homeView({ tickets, migrations, timeZone: deps.services.migrations.timeZone }) });
    } catch (err) {
      if (!isAppError(err) || err.code !== 'forbidden') throw err;
      await client.views.publish({ user_id: event.user, view: refusedHomeView(userFacing(err)) });
    }
  };
}
