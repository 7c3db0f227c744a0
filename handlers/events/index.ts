import type { HandlerDeps, Registrar } from '../types.js';
import { appHomeOpened } from './app-home-opened.js';

export function register(app: Registrar, deps: HandlerDeps): void {
  app.event('app_home_opened', appHomeOpened(deps));
}
