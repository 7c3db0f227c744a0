/**
 * The one HTTP server: Slack's endpoint, plus health, readiness and metrics for operators.
 * It runs whether or not Slack is configured.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

export interface HttpDeps {
  slackListener: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** The customer's pages and the payment webhook (src/web), for the paths it claims; absent without PUBLIC_URL. */
  web?: { handle(req: IncomingMessage, res: ServerResponse): void; handles(path: string): boolean } | undefined;
  ping: () => Promise<boolean>;
  backlog: () => Promise<Record<string, number>>;
  metrics: Metrics;
  log: Logger;
  /** The customer's pages (src/web): true when it answered the request. */
  customerPages?: ((req: IncomingMessage, res: ServerResponse, path: string) => boolean) | undefined;
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function createHttpServer(deps: HttpDeps): http.Server {
  const { metrics, log } = deps;
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/slack/events' && req.method === 'POST') {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const kind = (req as { slackKind?: string }).slackKind ?? (res.statusCode === 401 ? 'rejected' : 'unknown');
        metrics.ackLatency.observe({ kind }, Number(process.hrtime.bigint() - started) / 1e9);
        if (res.statusCode >= 400)
          log.warn({ event: 'slack.http_rejected', status: res.statusCode }, 'Slack request rejected');
      });
      if (!deps.slackListener) return send(res, 503, { ok: false, error: 'slack_off' });
      return deps.slackListener(req, res);
    }
    if (deps.web?.handles(path ?? '/')) return deps.web.handle(req, res);
    if (req.method !== 'GET') return send(res, 404, { ok: false, error: 'not_found' });
    if (deps.customerPages?.(req, res, path ?? '/')) return;
    switch (path) {
      case '/healthz':
        return send(res, 200, { status: 'ok' });
      case '/readyz':
        void deps.ping().then((up) => send(res, up ? 200 : 503, { status: up ? 'ready' : 'database unavailable' }));
        return;
      case '/metrics':
        void deps
          .backlog()
          .then((counts) => Object.entries(counts).forEach(([channel, n]) => metrics.outboxBacklog.set({ channel }, n)))
          .catch(() => undefined)
          .then(() => metrics.registry.metrics())
          .then((text) => send(res, 200, text, metrics.registry.contentType));
        return;
      default:
        return send(res, 404, { ok: false, error: 'not_found' });
    }
  });
}

export function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
