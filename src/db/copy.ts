/**
 * Copies one database between two MongoDB-compatible servers (the embedded engine to Atlas, say):
 * every collection with its options, every index (unique ones included), every document with its
 * `_id`. Indexes are made before documents, so the target never holds data without its guards.
 * Documents are inserted in batches and those already there replaced by `_id`: running it again
 * brings the target up to date instead of failing. Documents only the target has are left alone.
 */
import {
  MongoBulkWriteError,
  MongoClient,
  type Collection,
  type Db,
  type Document,
  type IndexDescription,
} from 'mongodb';

export interface CopyProgress {
  collection: string;
  documents: number;
  indexes: number;
}

export interface CopyResult {
  collections: CopyProgress[];
  /** Collections whose document count differs after the copy (the source changed meanwhile, or the target had more). */
  mismatches: { collection: string; source: number; target: number }[];
}

const BATCH = 500;
/** Index options a createIndex call takes back as they were listed; `v` and `ns` describe the server, not the index. */
const DROPPED_INDEX_FIELDS = new Set(['v', 'ns', 'key', 'name']);

/** The database a URI names, else the app's own (`account_requests`, as on the embedded engine). */
export function databaseName(uri: string): string {
  const name = decodeURIComponent(new URL(uri).pathname.replace(/^\//, ''));
  return name || 'account_requests';
}

async function copyIndexes(from: Db, to: Db, name: string): Promise<number> {
  const indexes = (await from.collection(name).listIndexes().toArray()) as (Document & {
    key: Document;
    name: string;
  })[];
  const wanted: IndexDescription[] = indexes
    .filter((ix) => ix.name !== '_id_')
    .map((ix) => ({
      key: ix.key,
      name: ix.name,
      ...Object.fromEntries(Object.entries(ix).filter(([k]) => !DROPPED_INDEX_FIELDS.has(k))),
    }));
  // One index per command: FerretDB 1.24 panics (and drops the connection) on a createIndexes
  // command naming several indexes that already exist, which is what a re-run sends.
  for (const index of wanted) await to.collection(name).createIndexes([index]);
  return wanted.length;
}

/**
 * Inserts a batch, then replaces one by one what was already there. Not one bulk of replaces:
 * FerretDB 1.24 on PostgreSQL keeps a connection per matching statement of an update command
 * until the command ends, so a bulk with more matches than its pool has connections never ends.
 * Inserts are also what every engine does fastest.
 */
async function writeBatch(col: Collection, docs: Document[]): Promise<void> {
  let existing: Document[] = [];
  try {
    await col.insertMany(docs, { ordered: false });
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err;
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    const other = errors.find((e) => e.code !== 11000);
    if (other)
      throw new Error(`copying into ${col.collectionName}: ${other.errmsg ?? `code ${other.code}`}`, { cause: err });
    existing = errors.map((e) => docs[e.index]!);
  }
  for (const doc of existing) await col.replaceOne({ _id: doc._id }, doc);
}

async function copyDocuments(from: Db, to: Db, name: string, onBatch?: (n: number) => void): Promise<number> {
  let copied = 0;
  let batch: Document[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await writeBatch(to.collection(name), batch);
    copied += batch.length;
    batch = [];
    onBatch?.(copied);
  };
  // Sorted by _id so an interrupted copy re-run walks the same order.
  for await (const doc of from.collection(name).find({}, { sort: { _id: 1 }, batchSize: BATCH })) {
    batch.push(doc);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return copied;
}

export async function copyDatabase(
  fromUri: string,
  toUri: string,
  opts: { onCollection?: (p: CopyProgress) => void; onBatch?: (collection: string, copied: number) => void } = {},
): Promise<CopyResult> {
  const source = await MongoClient.connect(fromUri);
  try {
    const target = await MongoClient.connect(toUri);
    try {
      const from = source.db(databaseName(fromUri));
      const to = target.db(databaseName(toUri));
      const existing = new Set((await to.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
      const collections = (await from.listCollections().toArray())
        .filter((c) => (c.type ?? 'collection') === 'collection' && !c.name.startsWith('system.'))
        .sort((a, b) => a.name.localeCompare(b.name));
      const result: CopyResult = { collections: [], mismatches: [] };
      for (const c of collections) {
        if (!existing.has(c.name)) await to.createCollection(c.name, (c as { options?: Document }).options ?? {});
        const indexes = await copyIndexes(from, to, c.name);
        const documents = await copyDocuments(from, to, c.name, (n) => opts.onBatch?.(c.name, n));
        const progress = { collection: c.name, documents, indexes };
        result.collections.push(progress);
        opts.onCollection?.(progress);
        const [s, t] = await Promise.all([
          from.collection(c.name).countDocuments(),
          to.collection(c.name).countDocuments(),
        ]);
        if (s !== t) result.mismatches.push({ collection: c.name, source: s, target: t });
      }
      return result;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
