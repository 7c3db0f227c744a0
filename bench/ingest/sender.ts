/**
 * The SMTP client side of the bench, in a worker thread by default so its timing is not held up
 * by the event loop of the servers it measures (`main` runs it in this thread, for comparison).
 * One worker serves every replay of the run: it is started, and the corpus read, before any timing.
 */
import { Worker } from 'node:worker_threads';
import { loadMessages, sendAll, type SendOptions, type SendResult } from './send.js';

export type LoadThread = 'worker' | 'main';

export interface Sender {
  /** Bytes of the messages held. */
  bytes: number;
  send(o: SendOptions): Promise<SendResult>;
  stop(): Promise<void>;
}

type Reply =
  { type: 'ready'; bytes: number } | { type: 'result'; result: SendResult } | { type: 'failed'; error: string };

export async function startSender(thread: LoadThread, files: string[]): Promise<Sender> {
  if (thread === 'main') {
    const bytes = await loadMessages(files);
    return { bytes, send: sendAll, stop: async () => undefined };
  }
  // Workers do not inherit tsx's loader hooks, so the worker registers them before importing.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./send-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => tsx.register()).then(() => import(${JSON.stringify(entry)}))`;
  const worker = new Worker(boot, { eval: true, workerData: files });
  let pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  const next = () => new Promise<Reply>((resolve, reject) => (pending = { resolve, reject }));
  const settle = (fn: (p: NonNullable<typeof pending>) => void) => {
    const p = pending;
    pending = undefined;
    if (p) fn(p);
  };
  worker.on('message', (reply: Reply) => settle((p) => p.resolve(reply)));
  worker.on('error', (err) => settle((p) => p.reject(err)));
  worker.on('exit', (code) => settle((p) => p.reject(new Error(`sender worker exited with code ${code}`))));

  const expect = async <T extends Reply['type']>(type: T): Promise<Extract<Reply, { type: T }>> => {
    const reply = await next();
    if (reply.type === 'failed') throw new Error(`sender worker: ${reply.error}`);
    if (reply.type !== type) throw new Error(`sender worker: expected ${type}, got ${reply.type}`);
    return reply as Extract<Reply, { type: T }>;
  };

  let ready: { bytes: number };
  try {
    ready = await expect('ready');
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  return {
    bytes: ready.bytes,
    send: async (o) => {
      const reply = expect('result');
      worker.postMessage(o);
      return (await reply).result;
    },
    stop: async () => void (await worker.terminate()),
  };
}
