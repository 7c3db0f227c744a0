/**
 * Runs a load in a worker thread, so the generator's event loop is not the apps' event loop: a
 * busy app then delays its own responses, not the timing of them. `main` runs it in this thread.
 */
import { Worker } from 'node:worker_threads';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';

export type LoadThread = 'worker' | 'main';

let current: Worker | undefined;

/** Stops a load in progress (for Ctrl-C); a no-op when none runs in a worker. */
export async function abortLoad(): Promise<void> {
  await current?.terminate();
}

export function runLoadIn(thread: LoadThread, opts: LoadOptions): Promise<LoadResult> {
  if (thread === 'main') return runLoad(opts);
  // Workers do not inherit tsx's loader hooks, so the worker registers them before importing.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./load-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => tsx.register()).then(() => import(${JSON.stringify(entry)}))`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(boot, { eval: true, workerData: opts });
    current = worker;
    let result: LoadResult | undefined;
    worker.once('message', (message: LoadResult) => (result = message));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      current = undefined;
      if (result) resolve(result);
      else reject(new Error(`load worker exited with code ${code} before reporting`));
    });
  });
}
