/**
 * Raw message bytes in MongoDB, in pieces keyed `<rawId>#<n>`, written as they arrive and read
 * back as a stream, so no message is ever held whole in memory. GridFS would do, but it looks its
 * chunks up by `files_id`; `_id` lookups are indexed on MongoDB and the cheapest query FerretDB's
 * SQLite backend answers. Pieces go through the driver rather than mongoose: casting a Buffer into
 * a mongoose document copies it, and a piece is the largest thing the bot holds per message.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Collection } from 'mongodb';
import type { Models } from '../db/models.js';

/**
 * Under the 16 MB document limit, and what a message in flight holds (SMTP_INBOUND_MAX_CLIENTS
 * bounds how many are). Not smaller: on FerretDB's SQLite backend even an `_id` lookup scans the
 * collection, so every piece read costs a scan. Measured with 192 MB of pieces stored, reading a
 * 24 MB message took 5.7 s in 1 MiB pieces and 3.2 s in 4 MiB ones.
 */
export const PIECE_BYTES = 4 * 1024 * 1024;

/** Where a row's bytes are: rows written before uploads had their own id keep them under `_id`. */
export type RawRef = { _id: string; rawId?: string | null | undefined; rawChunks: number };

export interface RawUpload {
  readonly rawId: string;
  /** Keeps the bytes; each time a piece fills it is inserted before this resolves. */
  write(chunk: Buffer): Promise<void>;
  /** Inserts what is left; resolves to the number of pieces. */
  finish(): Promise<number>;
  /** Removes the pieces inserted so far. */
  discard(): Promise<void>;
}

type Piece = { _id: string; data: Buffer };

export function rawStore(models: Models) {
  // mongoose's collection passes calls through to the driver's; typed as the driver's for string ids.
  const pieces = models.RawMailChunk.collection as unknown as Collection<Piece>;
  const pieceId = (key: string, n: number) => `${key}#${n}`;

  async function remove(key: string, count: number): Promise<void> {
    // One plain `_id` delete each: the one filter FerretDB hands to SQLite whole. It evaluates
    // others (`$eq`, `$in`, a prefix) itself, decoding every piece: `$eq` measured 7 times slower.
    for (let n = 0; n < count; n += 1) await pieces.deleteOne({ _id: pieceId(key, n) });
  }

  return {
    upload(): RawUpload {
      const rawId = `raw:${randomUUID()}`;
      let held: Buffer[] = [];
      let heldBytes = 0;
      let inserted = 0;
      let started = 0;
      const flush = async () => {
        const data = Buffer.concat(held, heldBytes);
        held = [];
        heldBytes = 0;
        started += 1;
        await pieces.insertOne({ _id: pieceId(rawId, inserted), data });
        inserted += 1;
      };
      return {
        rawId,
        async write(chunk) {
          let rest = chunk;
          while (rest.length > 0) {
            const take = rest.subarray(0, PIECE_BYTES - heldBytes);
            held.push(take);
            heldBytes += take.length;
            rest = rest.subarray(take.length);
            if (heldBytes === PIECE_BYTES) await flush();
          }
        },
        async finish() {
          if (heldBytes > 0 || inserted === 0) await flush();
          return inserted;
        },
        async discard() {
          held = [];
          heldBytes = 0;
          // A piece whose insert failed may still have landed: try every one begun.
          await remove(rawId, started);
        },
      };
    },

    /** The bytes of a stored row, fetched a piece at a time as the reader asks for them. */
    read(ref: RawRef): Readable {
      const key = ref.rawId ?? ref._id;
      async function* each() {
        for (let n = 0; n < ref.rawChunks; n += 1) {
          const piece = await pieces.findOne({ _id: pieceId(key, n) }, { promoteBuffers: true });
          if (!piece) throw new Error(`raw mail ${key} is missing piece ${n}`);
          yield piece.data;
        }
      }
      return Readable.from(each(), { objectMode: false });
    },

    remove,
  };
}
export type RawStore = ReturnType<typeof rawStore>;
