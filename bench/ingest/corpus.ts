/** The email corpus as the bench replays it: every file under the folder, sorted, empty ones set aside. */
import fs from 'node:fs/promises';
import path from 'node:path';

export interface CorpusFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the corpus folder, for notes. */
  rel: string;
  size: number;
}

export interface Corpus {
  dir: string;
  /** Non-empty files, sorted by relative path: the messages sent, in this order. */
  files: CorpusFile[];
  /** Relative paths of the empty files, which are not sent. */
  empty: string[];
  /** Total bytes of the files sent. */
  bytes: number;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

export async function listCorpus(dir: string): Promise<Corpus> {
  const all = (await walk(dir))
    .map((p) => ({ path: p, rel: path.relative(dir, p) }))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const files: CorpusFile[] = [];
  const empty: string[] = [];
  let bytes = 0;
  for (const f of all) {
    const { size } = await fs.stat(f.path);
    if (size === 0) empty.push(f.rel);
    else {
      files.push({ ...f, size });
      bytes += size;
    }
  }
  if (files.length === 0) throw new Error(`no messages under ${dir}`);
  return { dir, files, empty, bytes };
}
