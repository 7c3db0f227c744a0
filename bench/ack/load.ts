/**
 * A closed-loop HTTP load generator: `connections` loops, each with one request in flight on its
 * own keep-alive socket, sending the same pre-signed body until the time is up. Requests started
 * during the warm-up are sent but not measured. Runs in a worker thread (load-worker.ts) or here.
 */
import http from 'node:http';

/** Everything a worker needs; plain data, so it crosses postMessage. */
export interface LoadOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** The ack must carry this text (the usage line), or be empty when `''`. */
  expectBody: string;
  requestTimeoutMs?: number;
}

export interface LoadResult {
  /** Latency in ms of every measured 200, write to response end. */
  latenciesMs: Float64Array;
  /** Measured window in ms: from the end of warm-up to the last measured response. */
  elapsedMs: number;
  /** Measured responses other than 200, plus socket errors and timeouts. */
  errors: number;
  /** Measured 200s whose body was not the expected ack. */
  unexpectedBodies: number;
  /** Status codes and error codes of the measured failures. */
  failures: Record<string, number>;
  /** 200s over the whole run, warm-up included: each one started follow-up work in the app. */
  acked: number;
}

type Outcome =
  | { status: number; body: string; sentAt: bigint; endedAt: bigint }
  | { error: string; sentAt: bigint; endedAt: bigint };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const target = new URL(o.url);
  const payload = Buffer.from(o.body);
  const headers = { ...o.headers, 'content-length': String(payload.length) };
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  const timeoutMs = o.requestTimeoutMs ?? 10_000;

  const send = (): Promise<Outcome> =>
    new Promise((resolve) => {
      let sentAt = 0n;
      const req = http.request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              sentAt,
              endedAt: process.hrtime.bigint(),
            }),
          );
          res.on('error', (err: NodeJS.ErrnoException) =>
            resolve({ error: err.code ?? err.message, sentAt, endedAt: process.hrtime.bigint() }),
          );
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) =>
        resolve({ error: err.code ?? err.message, sentAt, endedAt: process.hrtime.bigint() }),
      );
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      sentAt = process.hrtime.bigint();
      req.end(payload);
    });

  const startedAt = process.hrtime.bigint();
  const measureFrom = startedAt + BigInt(Math.round(o.warmupMs * 1e6));
  const stopAt = measureFrom + BigInt(Math.round(o.durationMs * 1e6));
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let errors = 0;
  let unexpectedBodies = 0;
  let acked = 0;
  let lastEnd = measureFrom;

  const bodyOk = (body: string) => (o.expectBody === '' ? body === '' : body.includes(o.expectBody));

  const loop = async (): Promise<void> => {
    while (process.hrtime.bigint() < stopAt) {
      const outcome = await send();
      const measured = outcome.sentAt >= measureFrom;
      if ('status' in outcome && outcome.status === 200) acked += 1;
      if (!measured) continue;
      if (outcome.endedAt > lastEnd) lastEnd = outcome.endedAt;
      if ('error' in outcome) {
        errors += 1;
        failures[outcome.error] = (failures[outcome.error] ?? 0) + 1;
        await sleep(10); // a refused connection fails at once; do not spin
      } else if (outcome.status !== 200) {
        errors += 1;
        failures[String(outcome.status)] = (failures[String(outcome.status)] ?? 0) + 1;
      } else {
        latencies.push(Number(outcome.endedAt - outcome.sentAt) / 1e6);
        if (!bodyOk(outcome.body)) unexpectedBodies += 1;
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: o.connections }, loop));
  } finally {
    agent.destroy();
  }
  return {
    latenciesMs: Float64Array.from(latencies),
    elapsedMs: Number(lastEnd - measureFrom) / 1e6,
    errors,
    unexpectedBodies,
    failures,
    acked,
  };
}
