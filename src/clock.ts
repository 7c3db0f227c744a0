/**
 * Where the app reads the time. Production uses the system clock; tests and benches use a clock
 * set to a chosen moment that then runs at real speed, so a job due "at 00:00 TZ_BILLING on the day
 * before the start" can fire seconds into a test with the real scheduler (see jobs/scheduler.ts,
 * which turns the app's times into real ones for Agenda).
 */
export interface Clock {
  now(): Date;
  /**
   * Called after the clock jumps (tests and benches set it; the system clock never jumps), so
   * what waits for a time on this clock can look again. Returns how to stop listening.
   */
  onJump?(listener: () => void): () => void;
}

export const systemClock: Clock = { now: () => new Date() };

export interface SettableClock extends Clock {
  /** From now on the clock reads `at`, and runs on from there. */
  set(at: Date): void;
}

/** A clock that reads `at` now and advances with real time. */
export function settableClock(at: Date): SettableClock {
  let offsetMs = at.getTime() - Date.now();
  const listeners = new Set<() => void>();
  return {
    now: () => new Date(Date.now() + offsetMs),
    set(next) {
      offsetMs = next.getTime() - Date.now();
      for (const listener of listeners) listener();
    },
    onJump(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
