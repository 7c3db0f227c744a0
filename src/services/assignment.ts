/**
 * Who owns a ticket when nobody claimed it: with `ASSIGN_<TEAM>=round-robin` a new ticket goes to
 * the team's members in turn (by user ID, so every process agrees on the order), passing by those
 * marked away in the role store. The turn is a counter whose increment is a hint on FerretDB (not
 * atomic): two tickets opened at the same instant may go to the same person, which evens out.
 */
import type { Team } from '../config.js';
import { racingUpsert, type Models } from '../db/models.js';
import { AppError } from '../errors.js';
import { rolesOf } from './roles.js';

/** The team's members who are at work, in a fixed order. Admins without the team role are not members. */
export async function activeMembers(models: Models, team: Team): Promise<string[]> {
  const rows = await models.Role.find({ roles: team, away: { $ne: true } })
    .sort({ _id: 1 })
    .select({ _id: 1 })
    .limit(200)
    .lean();
  return rows.map((r) => r._id);
}

/** The next owner in the team's turn, or undefined when nobody is at work. */
export async function roundRobinOwner(models: Models, team: Team): Promise<string | undefined> {
  const members = await activeMembers(models, team);
  if (members.length === 0) return undefined;
  const doc = await racingUpsert(() =>
    models.Counter.findOneAndUpdate(
      { _id: `assign:${team}` },
      { $inc: { seq: 1 } },
      { upsert: true, returnDocument: 'after' },
    ).lean(),
  );
  return members[((doc?.seq ?? 1) - 1) % members.length];
}

/** The member after `current` in the team's order (skipping the away), or undefined when there is no one else. */
export async function nextMember(models: Models, team: Team, current: string): Promise<string | undefined> {
  const members = (await activeMembers(models, team)).filter((m) => m !== current);
  if (members.length === 0) return undefined;
  return members.find((m) => m > current) ?? members[0];
}

/** A new owner must be able to work the ticket: a member of its team, or an admin. */
export async function checkOwner(models: Models, team: Team, userId: string): Promise<void> {
  const roles = await rolesOf(models, userId);
  if (!roles.includes(team) && !roles.includes('admin')) {
    throw new AppError('invalid_input', `<@${userId}> is not in the ${team} team; pick a ${team} team member.`, {
      field: 'owner',
    });
  }
}

/** Marks a staff member away (or back): round-robin passes them by while away. */
export async function setAway(models: Models, userId: string, away: boolean): Promise<void> {
  await models.Role.updateOne({ _id: userId }, { $set: { away } });
}
