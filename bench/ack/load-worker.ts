/** Worker-thread entry: runs one load from workerData and posts the result back. */
import { parentPort, workerData } from 'node:worker_threads';
import { runLoad, type LoadOptions } from './load.js';

const result = await runLoad(workerData as LoadOptions);
parentPort!.postMessage(result, [result.latenciesMs.buffer as ArrayBuffer]);
