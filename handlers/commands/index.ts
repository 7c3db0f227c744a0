import { COMMANDS } from '../../views/ids.js';
import type { HandlerDeps, Registrar } from '../types.js';
import { ticketCommand } from './ticket.js';
import { migrateCommand } from './migrate.js';
import { planCommand } from './plan.js';
import { accountCommand } from './account.js';

export function register(app: Registrar, deps: HandlerDeps): void {
  app.command(COMMANDS.ticket, ticketCommand(deps));
  app.command(COMMANDS.migrate, migrateCommand(deps));
  app.command(COMMANDS.plan, planCommand(deps));
  app.command(COMMANDS.account, accountCommand(deps));
}
