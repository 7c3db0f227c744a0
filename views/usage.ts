import { COMMANDS } from './ids.js';

export const TICKET_USAGE = `Usage: \`${COMMANDS.ticket} new\` opens a ticket, \`${COMMANDS.ticket} AR-1001\` shows one, \`${COMMANDS.ticket} mine\` lists yours, \`${COMMANDS.ticket} stats [7d|30d] [team]\` shows the numbers, \`${COMMANDS.ticket} export 30d\` sends them as a CSV.`;

export const MIGRATE_USAGE = `Usage: \`${COMMANDS.migrate}\` or \`${COMMANDS.migrate} R74-ZWR-R44Z\` opens the Enterprise handoff for a C4S account.`;

export const PLAN_USAGE = `Usage: \`${COMMANDS.plan}\` or \`${COMMANDS.plan} R74-ZWR-R44Z\` opens the plan change form (upgrade, downgrade, add-ons, pause, reactivation, cancellation).`;

export const ACCOUNT_USAGE = `Usage: \`${COMMANDS.account} R74-ZWR-R44Z\` shows the account's plan, status, scheduled changes and open tickets.`;
