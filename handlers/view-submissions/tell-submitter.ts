import type { AllMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import type { Logger } from '../../src/logger.js';

const Metadata = z.object({ channel: z.string().optional() }).catch({});

/** The channel a modal was opened from, carried in its private_metadata (absent when unknown). */
export function originChannel(privateMetadata: string | undefined): string | undefined {
  try {
    return Metadata.parse(JSON.parse(privateMetadata || '{}')).channel;
  } catch {
    return undefined;
  }
}

/**
 * Answers whoever submitted a modal: ephemerally where the modal was opened from, else by DM (the
 * bot may not be a member of that channel). A failure to tell is logged, never thrown.
 */
export function tellSubmitter(
  client: AllMiddlewareArgs['client'],
  log: Logger,
  userId: string,
  channel: string | undefined,
) {
  return async (text: string): Promise<void> => {
    if (channel) {
      const ok = await client.chat.postEphemeral({ channel, user: userId, text }).then(
        () => true,
        () => false,
      );
      if (ok) return;
    }
    await client.chat
      .postMessage({ channel: userId, text })
      .catch((err: Error) => log.warn({ event: 'notify.failed', err: err.message }, 'could not tell user'));
  };
}
