/**
 * The floor to compare against: a bare Bolt app on its own HTTPReceiver, answering `/ticket` with
 * our app's behaviours minus the database. It sends the same payloads (usage line, modal, list,
 * account overview) so the fake Slack does the same work for both apps.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import type { KnownBlock, View } from '@slack/types';
import { COMMANDS } from '../../views/ids.js';

export interface BareBoltOptions {
  signingSecret: string;
  token: string;
  slackApiUrl: string;
  usage: string;
  modal: View;
  /** What `/ticket mine` posts to response_url: a fixed list. */
  list: { text: string; blocks: KnownBlock[] };
  /** What `/account <id>` posts to response_url: a fixed overview. */
  account: { text: string; blocks: KnownBlock[] };
}

export interface BareBolt {
  eventsUrl: string;
  stop(): Promise<void>;
}

export async function startBareBolt(o: BareBoltOptions): Promise<BareBolt> {
  const receiver = new HTTPReceiver({
    signingSecret: o.signingSecret,
    endpoints: '/slack/events',
    logLevel: LogLevel.ERROR,
  });
  const app = new App({
    token: o.token,
    receiver,
    clientOptions: { slackApiUrl: o.slackApiUrl },
    logLevel: LogLevel.ERROR,
  });

  app.command(COMMANDS.ticket, async ({ command, ack, client, respond }) => {
    switch (command.text.trim()) {
      case 'new':
        await ack();
        await client.views.open({ trigger_id: command.trigger_id, view: o.modal });
        return;
      case 'mine':
        await ack();
        await respond({ response_type: 'ephemeral', ...o.list });
        return;
      default:
        await ack({ response_type: 'ephemeral', text: o.usage });
    }
  });

  app.command(COMMANDS.account, async ({ ack, respond }) => {
    await ack();
    await respond({ response_type: 'ephemeral', ...o.account });
  });

  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as unknown as Server;
  const { port } = server.address() as AddressInfo;
  return {
    eventsUrl: `http://127.0.0.1:${port}/slack/events`,
    stop: async () => {
      // Bolt's stop waits for keep-alive sockets to go idle; the load has ended, so close them now.
      server.closeAllConnections();
      await app.stop();
    },
  };
}
