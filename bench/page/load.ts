/**
 * A closed-loop GET load for the customer's page: one loop per customer, each with its own link
 * and its own keep-alive socket, one request in flight, the next sent as soon as the last answer
 * ended. Time to first byte is taken when the response's status line and headers are in (what a
 * browser waits for before it can paint); requests started in the warm-up are not measured.
 */
import http from 'node:http';

/** Plain data, so it crosses postMessage to a worker. */
export interface GetLoadOptions {
  /** One URL per concurrent customer. */
  urls: string[];
  warmupMs: number;
  durationMs: number;
  requestTimeoutMs?: number;
}

export interface GetLoadResult {
  ttfbMs: Float64Array;
  totalMs: Float64Array;
  elapsedMs: number;
  /** Measured answers other than 200, plus socket errors and timeouts, by status or code. */
  failures: Record<string, number>;
  bodyBytes: number;
}

type Outcome = { ok: true; ttfb: number; total: number; bytes: number } | { ok: false; why: string };

export async function runGetLoad(o: GetLoadOptions): Promise<GetLoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.urls.length });
  const timeoutMs = o.requestTimeoutMs ?? 10_000;
  const get = (url: URL): Promise<Outcome> =>
    new Promise((resolve) => {
      const sent = process.hrtime.bigint();
      const ms = (to: bigint) => Number(to - sent) / 1e6;
      const req = http.get({ agent, host: url.hostname, port: url.port, path: url.pathname + url.search }, (res) => {
        const ttfb = ms(process.hrtime.bigint());
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () =>
          resolve(
            res.statusCode === 200
              ? { ok: true, ttfb, total: ms(process.hrtime.bigint()), bytes }
              : { ok: false, why: String(res.statusCode) },
          ),
        );
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, why: err.code ?? err.message }));
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, why: err.code ?? err.message }));
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    });

  const ttfb: number[] = [];
  const total: number[] = [];
  const failures: Record<string, number> = {};
  let bodyBytes = 0;
  const start = Date.now();
  const measureFrom = start + o.warmupMs;
  const end = measureFrom + o.durationMs;
  let lastEnd = measureFrom;
  await Promise.all(
    o.urls.map(async (raw) => {
      const url = new URL(raw);
      while (Date.now() < end) {
        const measured = Date.now() >= measureFrom;
        const out = await get(url);
        if (!measured) continue;
        lastEnd = Math.max(lastEnd, Date.now());
        if (out.ok) {
          ttfb.push(out.ttfb);
          total.push(out.total);
          bodyBytes += out.bytes;
        } else failures[out.why] = (failures[out.why] ?? 0) + 1;
      }
    }),
  );
  agent.destroy();
  return {
    ttfbMs: Float64Array.from(ttfb),
    totalMs: Float64Array.from(total),
    elapsedMs: lastEnd - measureFrom,
    failures,
    bodyBytes,
  };
}
