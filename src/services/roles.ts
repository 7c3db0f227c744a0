/** Who may do what. Checked on the server for every action and submission, not only by hiding buttons. */
import type { Role } from '../config.js';
import { racingUpsert, type Models } from '../db/models.js';
import { AppError } from '../errors.js';

/** Adds the ROLE_* users to the role store; roles granted later in the store are kept. */
export async function seedRoles(models: Models, seed: Record<Role, string[]>): Promise<number> {
  let count = 0;
  for (const [role, users] of Object.entries(seed) as [Role, string[]][]) {
    for (const userId of users) {
      await racingUpsert(() =>
        models.Role.updateOne({ _id: userId }, { $addToSet: { roles: role } }, { upsert: true }),
      );
      count += 1;
    }
  }
  return count;
}

export async function rolesOf(models: Models, userId: string): Promise<Role[]> {
  const doc = await models.Role.findById(userId).lean();
  return (doc?.roles ?? []) as Role[];
}

/** Who to ask for a role: a few admins by name, so a refusal says whom to ask. */
async function askAnAdmin(models: Models): Promise<string> {
  const admins = await models.Role.find({ roles: 'admin' }).select({ _id: 1 }).limit(3).lean();
  return admins.length
    ? `Ask an admin (${admins.map((a) => `<@${a._id}>`).join(', ')}) to add you.`
    : 'Ask an admin to add you.';
}

/** Admins may do everything a team member may. */
export async function requireRole(models: Models, userId: string, allowed: Role[], what: string): Promise<void> {
  const roles = await rolesOf(models, userId);
  if (roles.includes('admin') || allowed.some((r) => roles.includes(r))) return;
  throw new AppError('forbidden', `Only ${allowed.join(' or ')} team members can ${what}. ${await askAnAdmin(models)}`);
}

export const STAFF_ROLES: Role[] = ['sales', 'billing', 'support', 'admin'];

/**
 * Every read of customer data (tickets, mail kept for review, accounts and their plans) is for
 * staff: anyone else in the workspace gets one line saying whom to ask, and sees nothing.
 */
export async function requireStaff(models: Models, userId: string, what: string): Promise<Role[]> {
  const roles = await rolesOf(models, userId);
  if (roles.some((r) => STAFF_ROLES.includes(r))) return roles;
  throw new AppError(
    'forbidden',
    `Only sales, billing, support and admin team members can ${what}. ${await askAnAdmin(models)}`,
  );
}
