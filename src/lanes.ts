/**
 * In-process lanes: work this process starts at once, a few tasks at a time, instead of waiting for
 * a scheduler poll. Work a person is waiting for (an interactive outbox row) has a lane of its own,
 * so it never queues behind bulk work (a flood of inbound mail and the posts and emails it causes).
 * Whatever a lane drops (an error, a crash) its sweep job picks up later.
 *
 * A lane of its own is not enough on a database that serialises writes (FerretDB on SQLite): a
 * person's request still waits for the bulk writes ahead of it there. So while interactive work is
 * waiting or running, each bulk lane starts no more than one task at a time; bulk work slows but
 * never stops.
 */
import type { Logger } from './logger.js';

export type LaneName = 'mail' | 'bulk' | 'interactive';

export interface Lane {
  /** Runs `work` when a slot is free, unless work under `key` is already waiting or running; true if queued. */
  run(key: string, work: () => Promise<unknown>): boolean;
  /** Tasks waiting or running. */
  depth(): number;
}

export type Lanes = Record<LaneName, Lane>;

/** Tasks a lane runs at once. Mail processing and bulk deliveries together keep to the four the one shared queue had. */
export const LANE_SLOTS: Readonly<Record<LaneName, number>> = { mail: 2, bulk: 2, interactive: 4 };
/** A bulk lane's slots while interactive work is waiting or running. */
export const YIELDED_SLOTS = 1;
/** The one queue of the behaviour before lanes. */
const SHARED_SLOTS = 4;

interface Queue {
  slots: number;
  active: number;
  waiting: { key: string; work: () => Promise<unknown>; lane: LaneName }[];
}

/** `shared`: one queue of four for everything, the behaviour before lanes (benches compare the two). */
export function createLanes(log: Logger, opts: { shared?: boolean } = {}): Lanes {
  const names: LaneName[] = ['interactive', 'mail', 'bulk'];
  const one: Queue = { slots: SHARED_SLOTS, active: 0, waiting: [] };
  const queues = Object.fromEntries(
    names.map((n) => [n, opts.shared ? one : { slots: LANE_SLOTS[n], active: 0, waiting: [] }]),
  ) as Record<LaneName, Queue>;
  const keys = Object.fromEntries(names.map((n) => [n, new Set<string>()])) as Record<LaneName, Set<string>>;

  const someoneWaits = () => !opts.shared && queues.interactive.active + queues.interactive.waiting.length > 0;
  const slotsOf = (name: LaneName, q: Queue) =>
    name === 'interactive' || opts.shared ? q.slots : someoneWaits() ? YIELDED_SLOTS : q.slots;

  function pump(): void {
    // Interactive first, so it is counted as waiting before the bulk lanes take their slots.
    for (const name of opts.shared ? (['interactive'] as const) : names) {
      const q = queues[name];
      while (q.waiting.length > 0 && q.active < slotsOf(name, q)) start(q, q.waiting.shift()!);
    }
  }

  function start(q: Queue, task: Queue['waiting'][number]): void {
    q.active += 1;
    void Promise.resolve()
      .then(task.work)
      .catch((err: Error) =>
        log.warn(
          { event: 'lane.deferred', lane: task.lane, key: task.key, err: err.message },
          'will be retried by its sweep job',
        ),
      )
      .finally(() => {
        q.active -= 1;
        keys[task.lane].delete(task.key);
        pump();
      });
  }

  const lane = (name: LaneName): Lane => ({
    run(key, work) {
      if (keys[name].has(key)) return false;
      keys[name].add(key);
      queues[name].waiting.push({ key, work, lane: name });
      pump();
      return true;
    },
    depth: () => queues[name].active + queues[name].waiting.length,
  });
  return { mail: lane('mail'), bulk: lane('bulk'), interactive: lane('interactive') };
}
