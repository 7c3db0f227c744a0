/**
 * Third-party reference data is kept outside this repository, in ../shared: the public email
 * corpus, the reply-trimmer fixtures and Slack's manifest schema. Tests that need it run when it is
 * there; in a clone of this repository alone they are skipped and say once, in one line, what was
 * not checked. The project's own fixtures (test/fixtures/) cover each class of mail either way.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe } from '@jest/globals';

const SHARED = path.resolve(process.cwd(), '..', 'shared');

/** The path under ../shared, or undefined when it is not on this machine. */
export function sharedPath(...parts: string[]): string | undefined {
  const full = path.join(SHARED, ...parts);
  return existsSync(full) ? full : undefined;
}

/** `describe` when `dir` is there, else `describe.skip` and one line saying what was not checked. */
export function describeWithShared(dir: string | undefined, what: string): typeof describe {
  if (dir) return describe;
  process.stderr.write(`skipped: ${what} (../shared is not next to this clone)\n`);
  return describe.skip as typeof describe;
}
