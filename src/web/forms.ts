/** The page's forms as zod schemas: what a browser may post, read once at the edge. */
import { z } from 'zod';
import { splitProjects } from '../domain/migration-steps.js';

/** A checkbox group posts nothing, one string, or several. */
const names = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));

export const ProjectsForm = z.object({
  live: names,
  test: names,
  add_live: z.string().max(500).optional(),
  add_test: z.string().max(500).optional(),
});

/** The chosen and added names per kind, or the first name that is not a project name. */
export function projectChoice(
  form: z.output<typeof ProjectsForm>,
): { live: string[]; test: string[] } | { bad: string } {
  const added = { live: splitProjects(form.add_live ?? ''), test: splitProjects(form.add_test ?? '') };
  const chosen = { live: splitProjects(form.live.join('\n')), test: splitProjects(form.test.join('\n')) };
  const bad = [...chosen.live.bad, ...chosen.test.bad, ...added.live.bad, ...added.test.bad][0];
  if (bad !== undefined) return { bad };
  return {
    live: [...new Set([...chosen.live.names, ...added.live.names])],
    test: [...new Set([...chosen.test.names, ...added.test.names])],
  };
}

/** Path parameters: a token is URL-safe base64 and base32, nothing else (checked again when read). */
export const TokenParams = z.object({ token: z.string().regex(/^[A-Za-z0-9_.-]{20,500}$/) });
