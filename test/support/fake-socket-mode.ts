/**
 * Slack's Socket Mode end, on loopback: the WebSocket the app connects to after
 * `apps.connections.open` (served by the fake Web API). It greets with `hello`, sends envelopes
 * (slash commands, interactivity, events) as Slack does, and hands back each envelope's ack.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

export interface FakeSocketMode {
  /** `ws://127.0.0.1:PORT/link`, for apps.connections.open to return. */
  url: string;
  /** Resolves once the app has connected and been greeted. */
  connected(timeoutMs?: number): Promise<void>;
  /** Sends one envelope and resolves with the app's ack of it. */
  send(
    type: 'slash_commands' | 'interactive' | 'events_api',
    payload: Record<string, unknown>,
    opts?: { retryAttempt?: number; timeoutMs?: number },
  ): Promise<SocketAck>;
  close(): Promise<void>;
}

export async function startFakeSocketMode(): Promise<FakeSocketMode> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/link' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const acks = new Map<string, (ack: SocketAck) => void>();
  let socket: WebSocket | undefined;
  let onConnect: (() => void) | undefined;

  server.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (data) => {
      const ack = JSON.parse(String(data)) as SocketAck;
      acks.get(ack.envelope_id)?.(ack);
      acks.delete(ack.envelope_id);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        debug_info: { host: 'fake', approximate_connection_time: 3600 },
        connection_info: { app_id: 'A0TEST' },
      }),
    );
    onConnect?.();
  });

  const within = <T>(p: Promise<T>, ms: number, what: string) =>
    Promise.race([
      p,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`fake socket mode: no ${what} within ${ms} ms`)), ms).unref(),
      ),
    ]);

  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/link`,
    connected: (timeoutMs = 5000) =>
      socket
        ? Promise.resolve()
        : within(new Promise<void>((resolve) => (onConnect = resolve)), timeoutMs, 'connection'),
    send(type, payload, { retryAttempt = 0, timeoutMs = 5000 } = {}) {
      if (!socket) return Promise.reject(new Error('fake socket mode: the app is not connected'));
      const id = randomUUID();
      const acked = new Promise<SocketAck>((resolve) => acks.set(id, resolve));
      socket.send(
        JSON.stringify({
          envelope_id: id,
          type,
          payload,
          accepts_response_payload: type !== 'events_api',
          retry_attempt: retryAttempt,
          retry_reason: retryAttempt > 0 ? 'timeout' : '',
        }),
      );
      return within(acked, timeoutMs, `ack of ${type}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
