/**
 * The customer's CSAT page: a GET on a closing email's link records the answer (the service checks
 * the signature, the expiry and that it is the first) and shows one line. Plain server-rendered
 * HTML, nothing the customer sent is echoed back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';

const page = (line: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex"><title>Thank you</title></head><body><p>${line}</p></body></html>`;

/** Answers `/csat/…` requests; returns false for any other path. */
export function csatPages(deps: { answer: (path: string) => Promise<{ status: number; line: string }>; log: Logger }) {
  return (req: IncomingMessage, res: ServerResponse, path: string): boolean => {
    if (!path.startsWith('/csat/')) return false;
    void deps
      .answer(path)
      .catch((err: Error) => {
        deps.log.error({ event: 'csat.failed', err: err.message }, 'CSAT answer failed');
        return { status: 503, line: 'We could not record your answer just now. Please try the link again later.' };
      })
      .then(({ status, line }) => {
        const html = page(line);
        res.writeHead(status, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(html),
          'cache-control': 'no-store',
          'referrer-policy': 'no-referrer',
        });
        res.end(html);
      });
    return true;
  };
}
