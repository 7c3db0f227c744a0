import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { homeView } from '../../views/home.js';
import type { HandlerDeps } from '../types.js';

export function appHomeOpened(deps: HandlerDeps) {
  return async ({ event, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    const [tickets, migrations] = await Promise.all([deps.services.tickets.mine(event.user), deps.services.migrations.home(event.user)]);
    await client.views.publish({ user_id: event.user, view: homeView({ tickets, migrations, timeZone: deps.services.migrations.timeZone }) });
  };
}
