/** Registers every Slack listener. The manifest test checks manifest.yml against what this registers. */
import type { HandlerDeps, Registrar } from './types.js';
import * as commands from './commands/index.js';
import * as actions from './actions/index.js';
import * as viewSubmissions from './view-submissions/index.js';
import * as events from './events/index.js';

export function registerHandlers(app: Registrar, deps: HandlerDeps): void {
  commands.register(app, deps);
  actions.register(app, deps);
  viewSubmissions.register(app, deps);
  events.register(app, deps);
}
export type { HandlerDeps, Registrar } from './types.js';
