/**
 * In-process lanes: work this process starts at once, a few tasks at a time, instead of waiting for
 * a scheduler poll. Each lane has slots of its own, so work a person is waiting for (an interactive
 * outbox row) never queues behind bulk work (a flood of inbound mail and the posts and emails it
 * causes). Whatever a lane drops (an error, a crash) its sweep job picks up later.
 */
import pLimit from 'p-limit';
import type { Logger } from './logger.js';

export type LaneName = 'mail' | 'bulk' | 'interactive';

export interface Lane {
  /** Runs `work` when a slot is free, unless work under `key` is already waiting or running; true if queued. */
  run(key: string, work: () => Promise<unknown>): boolean;
  /** Tasks waiting or running. */
  depth(): number;
}

export type Lanes = Record<LaneName, Lane>;

/**
 * Mail processing and bulk deliveries each get four slots, as the one shared queue had; that keeps
 * the database's load from a flood where it was. Interactive deliveries get four more of their own.
 */
export const LANE_SLOTS: Readonly<Record<LaneName, number>> = { mail: 4, bulk: 4, interactive: 4 };

/** `shared`: one queue of four for everything, the behaviour before lanes (benches compare the two). */
export function createLanes(log: Logger, opts: { shared?: boolean } = {}): Lanes {
  const shared = opts.shared ? pLimit(4) : undefined;
  const lane = (name: LaneName): Lane => {
    const limit = shared ?? pLimit(LANE_SLOTS[name]);
    const keys = new Set<string>();
    return {
      run(key, work) {
        if (keys.has(key)) return false;
        keys.add(key);
        void limit(work)
          .catch((err: Error) => log.warn({ event: 'lane.deferred', lane: name, key, err: err.message }, 'will be retried by its sweep job'))
          .finally(() => keys.delete(key));
        return true;
      },
      depth: () => limit.activeCount + limit.pendingCount,
    };
  };
  return { mail: lane('mail'), bulk: lane('bulk'), interactive: lane('interactive') };
}
