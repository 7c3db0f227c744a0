import type { WebClient } from '@slack/web-api';
import type { Team } from '../src/config.js';
import { isAppError, userFacing } from '../src/errors.js';
import { homeView, refusedHomeView } from '../views/home.js';
import type { HandlerDeps } from './types.js';

/** Builds and publishes a staff member's App Home (one page of each unowned queue); anyone else is told whom to ask. */
export async function publishHome(
  deps: HandlerDeps,
  client: WebClient,
  userId: string,
  page?: { team: Team; page: number },
): Promise<void> {
  try {
    const [tickets, migrations, sla] = await Promise.all([
      deps.services.tickets.mine(userId),
      deps.services.migrations.home(userId),
      deps.services.sla.home(userId, page),
    ]);
    await client.views.publish({
      user_id: userId,
      view: homeView({
        tickets,
        migrations,
        timeZone: deps.services.migrations.timeZone,
        sla: { data: sla, now: deps.services.sla.now() },
      }),
    });
  } catch (err) {
    if (!isAppError(err) || err.code !== 'forbidden') throw err;
    await client.views.publish({ user_id: userId, view: refusedHomeView(userFacing(err)) });
  }
}
