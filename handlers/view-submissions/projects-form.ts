import { z } from 'zod';
import { splitProjects } from '../../src/domain/migration-steps.js';

/** One field of project names, one per line or comma-separated; a bad name is an inline error. */
function projectList(field: string, required: boolean) {
  return z
    .string()
    .optional()
    .transform((text, ctx) => {
      const { names, bad } = splitProjects(text ?? '');
      if (bad.length > 0)
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `Not a project name: ${bad[0]!.slice(0, 40)}. Use letters, digits, spaces, . _ -`,
        });
      if (required && names.length === 0)
        ctx.addIssue({ code: 'custom', path: [field], message: 'Name at least one live project.' });
      return names;
    });
}

/**
 * The live and test project fields of a modal (the migration's Projects step, an account's
 * projects): names checked, none in both lists. `liveRequired`: at least one live project.
 */
export function projectsForm<L extends string, T extends string>(
  fields: { live: L; test: T },
  opts: { liveRequired: boolean },
) {
  const { live, test } = fields;
  const shape = { [live]: projectList(live, opts.liveRequired), [test]: projectList(test, false) } as Record<
    L | T,
    ReturnType<typeof projectList>
  >;
  return z.object(shape).superRefine((f, ctx) => {
    const lists = f as Record<L | T, string[]>;
    const both = lists[live].filter((n) => lists[test].includes(n));
    if (both.length > 0)
      ctx.addIssue({ code: 'custom', path: [test], message: `${both[0]} is listed as both live and test.` });
  });
}
