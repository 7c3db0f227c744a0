/**
 * Samples the process's resident set size every `intervalMs` from a worker thread of its own, so
 * a busy main thread (a big message being parsed) does not skip samples. RSS is per process: it
 * covers the servers, the database driver, the sender worker and this sampler alike.
 */
import { Worker } from 'node:worker_threads';

export interface RssMark {
  /** RSS now, in bytes. */
  now: number;
  /** Highest sample since the previous mark (or the start). */
  peakSinceLast: number;
  /** Highest sample since the sampler started. */
  peakOverall: number;
  /** Samples taken since the previous mark. */
  samples: number;
}

export interface RssSampler {
  /** Takes a sample now, returns it with the peak since the previous mark, and starts a new window. */
  mark(): Promise<RssMark>;
  stop(): Promise<void>;
}

const SAMPLER = `
const { parentPort, workerData } = require('node:worker_threads');
let peak = 0, overall = 0, samples = 0, now = 0;
const sample = () => {
  now = process.memoryUsage().rss;
  samples += 1;
  if (now > peak) peak = now;
  if (now > overall) overall = now;
};
sample();
setInterval(sample, workerData);
parentPort.on('message', () => {
  sample();
  parentPort.postMessage({ now, peakSinceLast: peak, peakOverall: overall, samples });
  peak = now;
  samples = 0;
});
`;

export async function startRssSampler(intervalMs: number): Promise<RssSampler> {
  const worker = new Worker(SAMPLER, { eval: true, workerData: intervalMs });
  const waiting: ((m: RssMark) => void)[] = [];
  worker.on('message', (m: RssMark) => waiting.shift()?.(m));
  await new Promise<void>((resolve, reject) => {
    worker.once('online', resolve);
    worker.once('error', reject);
  });
  return {
    mark: () =>
      new Promise((resolve) => {
        waiting.push(resolve);
        worker.postMessage('mark');
      }),
    stop: async () => void (await worker.terminate()),
  };
}
