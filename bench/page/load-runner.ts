/**
 * The page load runs in a worker thread, as bench:ack's does: the generator's event loop is then
 * not the app's, so a busy app delays its own answers, not the clock that times them.
 */
import { Worker } from 'node:worker_threads';
import type { GetLoadOptions, GetLoadResult } from './load.js';

export function runGetLoadInWorker(opts: GetLoadOptions): Promise<GetLoadResult> {
  // Workers do not inherit tsx's loader hooks, so the worker registers them before importing.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./load-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => tsx.register()).then(() => import(${JSON.stringify(entry)}))`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(boot, { eval: true, workerData: opts });
    let result: GetLoadResult | undefined;
    worker.once('message', (message: GetLoadResult) => (result = message));
    worker.once('error', reject);
    worker.once('exit', (code) =>
      result ? resolve(result) : reject(new Error(`page load worker exited with code ${code} before reporting`)),
    );
  });
}
