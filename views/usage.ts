import { COMMANDS } from './ids.js';

export const TICKET_USAGE = `Usage: \`${COMMANDS.ticket} new\` opens a ticket, \`${COMMANDS.ticket} AR-1001\` shows one, \`${COMMANDS.ticket} mine\` lists yours.`;
