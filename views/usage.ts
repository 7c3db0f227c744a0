import { COMMANDS } from './ids.js';

export const TICKET_USAGE = `Usage: \`${COMMANDS.ticket} new\` opens a ticket, \`${COMMANDS.ticket} AR-1001\` shows one, \`${COMMANDS.ticket} mine\` lists yours.`;

export const MIGRATE_USAGE = `Usage: \`${COMMANDS.migrate}\` or \`${COMMANDS.migrate} R74-ZWR-R44Z\` opens the Enterprise handoff for a C4S account.`;
