import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { userFacing } from '../../src/errors.js';
import { ACCOUNT_PROJECTS } from '../../views/ids.js';
import type { HandlerDeps } from '../types.js';
import { inlineErrors, readFields } from './fields.js';
import { projectsForm } from './projects-form.js';
import { originChannel, tellSubmitter } from './tell-submitter.js';

const F = ACCOUNT_PROJECTS.fields;
// Account projects may be all test ones: no live project required.
const form = projectsForm(F, { liveRequired: false });
const Metadata = z.object({ accountId: z.string().regex(/^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{4}$/) });

/** Billing saves an account's projects: fields checked inline, the role and account by the service. */
export function accountProjectsSubmission(deps: HandlerDeps) {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const parsed = form.safeParse(readFields(view.state.values, Object.values(F)));
    const meta = Metadata.safeParse(
      (() => {
        try {
          return JSON.parse(view.private_metadata || '{}');
        } catch {
          return {};
        }
      })(),
    );
    if (!parsed.success || !meta.success) {
      await ack({
        response_action: 'errors',
        errors: parsed.success
          ? { [F.live]: 'This form lost its account; close it and press Projects again.' }
          : inlineErrors(parsed.error),
      });
      return;
    }
    await ack();
    const tell = tellSubmitter(client, deps.log, body.user.id, originChannel(view.private_metadata));
    try {
      await tell(
        await deps.services.accounts.setProjects({
          accountId: meta.data.accountId,
          userId: body.user.id,
          live: parsed.data[F.live],
          test: parsed.data[F.test],
        }),
      );
    } catch (err) {
      deps.log.info(
        { event: 'account.projects_refused', user: body.user.id, err: (err as Error).message },
        'account projects not saved',
      );
      await tell(`${userFacing(err)} Nothing was saved.`);
    }
  };
}
