/**
 * Choosing the embedded engine with EMBEDDED_DB=auto where a mongod binary seems to be on the
 * machine but cannot be had (it will not start, or the download it needs is impossible): the first
 * start tries once and falls back to FerretDB on PostgreSQL; later starts on the same DATA_DIR go
 * straight to FerretDB, say why once, and try mongod again only after 7 days. The attempt is
 * observed through the `mongodAtHand` and `findMongod` seams, so nothing here reaches the internet.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { MONGOD_RETRY_AFTER_MS, MONGOD_UNAVAILABLE_FILE, startEmbedded } from '../src/db/embedded.js';
import { createLogger } from '../src/logger.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

/** A logger whose lines the test reads, and a mongod finder that counts attempts and always fails. */
function harness() {
  const lines: { event?: string; msg?: string }[] = [];
  const log = createLogger('info', {
    write: (line: string) => void lines.push(JSON.parse(line) as { event?: string }),
  });
  const attempts: Date[] = [];
  const findMongod = async () => {
    attempts.push(new Date());
    throw new Error('MongoBinary.getPath: could not find a valid binary path (downloads impossible here)');
  };
  return { lines, log, attempts, findMongod, mongodAtHand: async () => true };
}

async function tempDataDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-embedded-'));
  dirs.push(dir);
  return dir;
}

describe('embedded engine selection (auto)', () => {
  it('when mongod could not be had once, then the next start on that DATA_DIR does not try again and says why; after 7 days it tries again', async () => {
    const dataDir = await tempDataDir();
    const h = harness();
    const day0 = new Date('2026-12-01T10:00:00Z');

    const first = await startEmbedded(dataDir, 'auto', h.log, {
      mongodAtHand: h.mongodAtHand,
      findMongod: h.findMongod,
      now: () => day0,
    });
    await first.stop();
    expect(first.engine).toBe('ferretdb-postgres');
    expect(h.attempts).toHaveLength(1);
    const marker = JSON.parse(await fs.readFile(path.join(dataDir, 'db', MONGOD_UNAVAILABLE_FILE), 'utf8')) as {
      at: string;
      reason: string;
    };
    expect(marker).toEqual({ at: day0.toISOString(), reason: expect.stringContaining('downloads impossible') });

    // Only the remembered failure keeps it from trying: the cluster FerretDB made holds no data
    // yet, so take it away as if the first start had stopped before writing any.
    await fs.rm(path.join(dataDir, 'db', 'postgres'), { recursive: true, force: true });
    h.lines.length = 0;
    const second = await startEmbedded(dataDir, 'auto', h.log, {
      mongodAtHand: h.mongodAtHand,
      findMongod: h.findMongod,
      now: () => new Date(day0.getTime() + 86_400_000),
    });
    await second.stop();
    expect(second.engine).toBe('ferretdb-postgres');
    expect(h.attempts).toHaveLength(1);
    const said = h.lines.filter((l) => l.event === 'db.embedded.mongod_skipped');
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({
      failedAt: day0.toISOString(),
      retryAt: new Date(day0.getTime() + MONGOD_RETRY_AFTER_MS).toISOString(),
    });
    expect(h.lines.some((l) => l.event === 'db.embedded.mongod_unavailable')).toBe(false);

    await fs.rm(path.join(dataDir, 'db', 'postgres'), { recursive: true, force: true });
    const weekLater = await startEmbedded(dataDir, 'auto', h.log, {
      mongodAtHand: h.mongodAtHand,
      findMongod: h.findMongod,
      now: () => new Date(day0.getTime() + MONGOD_RETRY_AFTER_MS + 1000),
    });
    await weekLater.stop();
    expect(h.attempts).toHaveLength(2);
  }, 60_000);

  it('when the DATA_DIR already holds FerretDB data, then mongod is not tried at all', async () => {
    const dataDir = await tempDataDir();
    const h = harness();
    // A DATA_DIR FerretDB has written: started as ferretdb-sqlite, with one database created in it.
    const seeded = await startEmbedded(dataDir, 'ferretdb-sqlite', h.log, {
      mongodAtHand: h.mongodAtHand,
      findMongod: h.findMongod,
    });
    const client = await MongoClient.connect(seeded.uri);
    await client.db('account_requests').collection('probe').insertOne({ at: new Date() });
    await client.close();
    await seeded.stop();
    const server = await startEmbedded(dataDir, 'auto', h.log, {
      mongodAtHand: h.mongodAtHand,
      findMongod: h.findMongod,
    });
    await server.stop();
    expect(server.engine).toBe('ferretdb-sqlite');
    expect(h.attempts).toHaveLength(0);
  }, 60_000);

  it('when EMBEDDED_DB=mongodb asks for mongod, then a remembered failure does not stop it from trying (and failing loudly)', async () => {
    const dataDir = await tempDataDir();
    await fs.mkdir(path.join(dataDir, 'db'), { recursive: true });
    await fs.writeFile(
      path.join(dataDir, 'db', MONGOD_UNAVAILABLE_FILE),
      JSON.stringify({ at: new Date().toISOString(), reason: 'earlier' }),
    );
    const h = harness();
    await expect(startEmbedded(dataDir, 'mongodb', h.log, { findMongod: h.findMongod })).rejects.toThrow(
      /downloads impossible/,
    );
    expect(h.attempts).toHaveLength(1);
  });
});
