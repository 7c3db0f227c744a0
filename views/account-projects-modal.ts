/** Billing's modal for an account's projects: what the customer's migration page offers as checkboxes. */
import type { View } from '@slack/types';
import { ACCOUNT_PROJECTS } from './ids.js';
import { plain } from './format.js';

export function accountProjectsModal(o: {
  accountId: string;
  channel?: string | undefined;
  projects: { name: string; kind: 'live' | 'test' }[];
}): View {
  const F = ACCOUNT_PROJECTS.fields;
  const names = (kind: 'live' | 'test') =>
    o.projects
      .filter((p) => p.kind === kind)
      .map((p) => p.name)
      .join('\n');
  const field = (id: string, label: string, value: string) => ({
    type: 'input' as const,
    block_id: id,
    optional: true,
    label: plain(label),
    hint: plain('One per line, as named in the dashboard.', 150),
    element: {
      type: 'plain_text_input' as const,
      action_id: id,
      multiline: true,
      max_length: 3000,
      ...(value ? { initial_value: value } : {}),
    },
  });
  return {
    type: 'modal',
    callback_id: ACCOUNT_PROJECTS.callbackId,
    private_metadata: JSON.stringify({ accountId: o.accountId, ...(o.channel ? { channel: o.channel } : {}) }),
    title: plain('Account projects', 24),
    submit: plain('Save', 24),
    close: plain('Cancel', 24),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*${o.accountId}*: the customer's migration page offers these projects to choose from.`,
        },
      },
      field(F.live, 'Live projects', names('live')),
      field(F.test, 'Test projects', names('test')),
    ],
  };
}
