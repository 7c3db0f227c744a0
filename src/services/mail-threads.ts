/**
 * Which ticket an inbound message belongs to. Thread headers naming a Message-ID we know join it
 * (ours are random, so knowing one means having been sent the mail). A plus address joins when its
 * tag is signed (we handed it out in a Reply-To). A bare `+AR-n` or `[AR-n]` in the subject is a
 * guess anyone can make: it joins only a sender who already takes part, otherwise the message
 * opens a new ticket that cites the reference. The mail adapter (mail/ingest.ts) reads the clues
 * from the parsed message; the policy is here.
 */
import type { Models } from '../db/models.js';
import { readReplyTag } from '../domain/reply-address.js';
import { formatRef, parseRef } from '../domain/ticket.js';

export interface ThreadClues {
  messageId?: string | undefined;
  inReplyTo?: string | undefined;
  references: string[];
  subject: string;
  /** The sender's address, if the message has one. */
  from?: string | undefined;
  /** The tag of a plus address the message was sent to (`support+<tag>@…`). */
  plusTag?: string | undefined;
}

export interface ThreadDeps {
  models: Models;
  /** The application key: the reply addresses we hand out are signed with it. */
  appKey: Buffer;
}

/** `ref` when the message joins a ticket; `citesRef` when it only names one it may not join. */
export async function findThread(deps: ThreadDeps, clues: ThreadClues): Promise<{ ref?: string; citesRef?: string }> {
  const { models } = deps;
  const ids = [clues.inReplyTo, ...clues.references].filter((id): id is string => Boolean(id));
  if (ids.length > 0) {
    // Newest first, one `_id` lookup each (cheap everywhere), at most 20.
    for (const id of [...new Set(ids)].reverse().slice(0, 20)) {
      if (id === clues.messageId) continue;
      const known = await models.MailMessage.findById(id).lean();
      if (known) return { ref: known.ticketRef };
    }
  }
  const tag = clues.plusTag ? readReplyTag(deps.appKey, clues.plusTag) : undefined;
  if (tag?.signed && (await models.Ticket.exists({ _id: tag.ref }))) return { ref: tag.ref };
  const subjectRef = /\[(AR-\d+)\]/i.exec(clues.subject)?.[1];
  const subjectNumber = subjectRef ? parseRef(subjectRef) : undefined;
  const guesses = [tag?.ref, subjectNumber !== undefined ? formatRef(subjectNumber) : undefined].filter(
    (r): r is string => r !== undefined,
  );
  let citesRef: string | undefined;
  for (const ref of new Set(guesses)) {
    const ticket = await models.Ticket.findById(ref).select({ ref: 1, participants: 1 }).lean();
    if (!ticket) continue;
    if (clues.from && ticket.participants.includes(clues.from)) return { ref: ticket.ref };
    citesRef ??= ticket.ref;
  }
  return citesRef ? { citesRef } : {};
}
