import type { ViewOutput } from '@slack/bolt';
import type { z } from 'zod';

type StateValues = ViewOutput['state']['values'];

/** Reads input values by field name (block_id and action_id are both the field name). */
export function readFields(values: StateValues, fields: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const field of fields) {
    const el = values[field]?.[field];
    // Text, select/radio, date, user; checkboxes read as their first ticked value.
    const raw =
      el?.value ??
      el?.selected_option?.value ??
      el?.selected_date ??
      el?.selected_user ??
      el?.selected_options?.[0]?.value ??
      undefined;
    out[field] = typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined;
  }
  return out;
}

/** zod issues become Slack's inline errors, one per field (the first problem wins). */
export function inlineErrors(error: z.ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? '');
    if (field && !errors[field]) errors[field] = issue.message;
  }
  return errors;
}
