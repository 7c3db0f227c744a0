import type { KnownBlock } from '@slack/types';
import { escapeText, truncate } from './format.js';

/** A message the bot could not turn into a ticket, kept for a person to look at. */
export function reviewNotice(n: { inboundId: string; mailbox: string; reason: string; from?: string | undefined }): {
  text: string;
  blocks: KnownBlock[];
} {
  // The reason may quote the message (a parser error naming a header, say).
  const text = `:warning: A message to ${escapeText(n.mailbox)}@ was kept for review: ${escapeText(truncate(n.reason, 200))}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `stored as \`${n.inboundId}\`${n.from ? ` · envelope sender ${escapeText(n.from)}` : ''} · list them with \`/ticket review\``,
          },
        ],
      },
    ],
  };
}

export function reviewList(rows: { id: string; mailbox: string; reason: string; at: Date }[]): {
  text: string;
  blocks: KnownBlock[];
} {
  if (rows.length === 0)
    return {
      text: 'Nothing is waiting for review.',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Nothing is waiting for review.' } }],
    };
  const lines = rows.map(
    (r) =>
      `• \`${r.id}\` ${r.mailbox}@ — ${escapeText(truncate(r.reason, 150))} (${r.at.toISOString().slice(0, 16).replace('T', ' ')})`,
  );
  return {
    text: `${rows.length} messages kept for review`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*Kept for review*\n${lines.join('\n')}`.slice(0, 3000) } },
    ],
  };
}
