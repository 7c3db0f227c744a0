/**
 * The order in which this process takes up mail it has just stored, in two lanes. Small mail
 * (nearly all of it) goes a few at a time. Large mail goes within a byte budget as well: a burst
 * of big messages is parsed a couple at a time, so the memory parsing takes stays bounded, and the
 * rest wait at the cost of a closure each, without small mail queueing behind them. Rows this
 * process never gets to (a crash) are the mail sweep's.
 */
export interface MailQueueOptions {
  /** Messages worked on at once in each lane. */
  concurrency: number;
  /** A message of more bytes than this goes to the large lane. */
  largeBytes: number;
  /** Bytes of large mail worked on at once; a message larger than this runs alone. */
  budgetBytes: number;
}

type Waiting = { cost: number; start: () => void };

/** Runs work in arrival order while both a count and a byte total stay within their limits. */
function budget(bytes: number, slots: number) {
  const queue: Waiting[] = [];
  let used = 0;
  let running = 0;
  const next = () => {
    while (queue.length > 0 && running < slots && used + queue[0]!.cost <= bytes) {
      const job = queue.shift()!;
      used += job.cost;
      running += 1;
      job.start();
    }
  };
  return {
    run<T>(size: number, work: () => Promise<T>): Promise<T> {
      const cost = Math.min(Math.max(size, 0), bytes);
      return new Promise<T>((resolve, reject) => {
        queue.push({
          cost,
          start: () =>
            void Promise.resolve()
              .then(work)
              .then(resolve, reject)
              .finally(() => {
                used -= cost;
                running -= 1;
                next();
              }),
        });
        next();
      });
    },
  };
}

export function createMailQueue(o: MailQueueOptions) {
  const small = budget(Number.POSITIVE_INFINITY, o.concurrency);
  const large = budget(o.budgetBytes, o.concurrency);
  return {
    /** Runs `work` for a message of `size` bytes when its lane has room. */
    run<T>(size: number, work: () => Promise<T>): Promise<T> {
      return (size > o.largeBytes ? large : small).run(size, work);
    },
  };
}
export type MailQueue = ReturnType<typeof createMailQueue>;
