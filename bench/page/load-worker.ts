/** Runs one GET load in a worker thread and posts the result back (see load-runner.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { runGetLoad, type GetLoadOptions } from './load.js';

const result = await runGetLoad(workerData as GetLoadOptions);
parentPort!.postMessage(result);
