import fs from 'node:fs/promises';

export default async function globalTeardown() {
  const db = globalThis.__embeddedDb;
  if (!db) return;
  await db.server.stop();
  await fs.rm(db.dir, { recursive: true, force: true });
}
