/**
 * Another commit of this repository as a directory the bench can build and start: `git archive`
 * of the ref into a temporary folder (nothing in the repository or its worktrees changes), with
 * this checkout's node_modules linked in. Meant for refs with the same dependencies.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Checkout {
  dir: string;
  /** `<ref> (<short sha>)` */
  label: string;
  remove(): Promise<void>;
}

export async function checkoutOf(root: string, ref: string): Promise<Checkout> {
  const { stdout } = await run('git', ['-C', root, 'rev-parse', '--short', `${ref}^{commit}`]);
  const sha = stdout.trim();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-bench-ref-'));
  const remove = () => fs.rm(dir, { recursive: true, force: true });
  try {
    const tar = path.join(dir, '.source.tar');
    await run('git', ['-C', root, 'archive', '--format=tar', '-o', tar, sha], { maxBuffer: 1024 * 1024 });
    await run('tar', ['-xf', tar, '-C', dir]);
    await fs.rm(tar);
    await fs.symlink(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  } catch (err) {
    await remove();
    throw err;
  }
  return { dir, label: `${ref} (${sha})`, remove };
}

/** `HEAD (<short sha>)`, with `+ changes` when the working tree differs from it. */
export async function labelOf(root: string): Promise<string> {
  const { stdout: sha } = await run('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const { stdout: dirty } = await run('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']);
  return `this checkout (${sha.trim()}${dirty.trim() ? ' + changes' : ''})`;
}
