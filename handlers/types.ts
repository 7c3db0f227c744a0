import type { App } from '@slack/bolt';
import type { Logger } from '../src/logger.js';
import type { Services } from '../src/services/index.js';

/** What every listener may use: the use cases and a logger. Nothing else. */
export interface HandlerDeps {
  services: Services;
  log: Logger;
}

/** The part of Bolt's App that registration uses; the manifest test records through it. */
export type Registrar = Pick<App, 'command' | 'action' | 'view' | 'event' | 'options' | 'shortcut'>;
