/**
 * Where the app reads the time. Production uses the system clock; tests and benches use a clock
 * set to a chosen moment that then runs at real speed, so a job due "at 00:00 TZ_BILLING on the day
 * before the start" can fire seconds into a test with the real scheduler (see jobs/scheduler.ts,
 * which turns the app's times into real ones for Agenda).
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface SettableClock extends Clock {
  /** From now on the clock reads `at`, and runs on from there. */
  set(at: Date): void;
}

/** A clock that reads `at` now and advances with real time. */
export function settableClock(at: Date): SettableClock {
  let offsetMs = at.getTime() - Date.now();
  return {
    now: () => new Date(Date.now() + offsetMs),
    set(next) {
      offsetMs = next.getTime() - Date.now();
    },
  };
}
