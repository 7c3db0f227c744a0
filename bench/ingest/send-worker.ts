/** Worker-thread entry: loads the messages once, then replays them to each target it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadMessages, sendAll, type SendOptions } from './send.js';

const port = parentPort!;
try {
  const bytes = await loadMessages(workerData as string[]);
  port.postMessage({ type: 'ready', bytes });
} catch (err) {
  port.postMessage({ type: 'failed', error: (err as Error).stack ?? String(err) });
}
port.on('message', (o: SendOptions) => {
  sendAll(o).then(
    (result) => port.postMessage({ type: 'result', result }),
    (err: Error) => port.postMessage({ type: 'failed', error: err.stack ?? String(err) }),
  );
});
