import type { WebClient } from '@slack/web-api';
import { migrationHandoffModal } from '../views/migration-handoff-modal.js';
import type { HandlerDeps } from './types.js';

/**
 * Opens the handoff modal with the trigger at once (it expires in 3 s), then fills in the rep's
 * email from users.info with views.update; without an email the rep simply types it.
 */
export async function openHandoffModal(
  deps: HandlerDeps,
  client: WebClient,
  opts: { triggerId: string; userId: string; accountId?: string | undefined; channel?: string | undefined },
): Promise<void> {
  const base = {
    privateMetadata: JSON.stringify(opts.channel ? { channel: opts.channel } : {}),
    accountId: opts.accountId,
    timeZone: deps.services.migrations.timeZone,
  };
  const opened = await client.views.open({ trigger_id: opts.triggerId, view: migrationHandoffModal(base) });
  const viewId = opened.view?.id;
  if (!viewId) return;
  try {
    const info = await client.users.info({ user: opts.userId });
    const email = info.user?.profile?.email;
    if (!email) return;
    await client.views.update({
      view_id: viewId,
      ...(opened.view?.hash ? { hash: opened.view.hash } : {}),
      view: migrationHandoffModal({ ...base, salespersonEmail: email }),
    });
  } catch (err) {
    // A hash mismatch means the rep already typed; a users.info failure leaves the field to them.
    deps.log.info(
      { event: 'handoff.prefill_skipped', user: opts.userId, err: (err as Error).message },
      'handoff email not prefilled',
    );
  }
}
