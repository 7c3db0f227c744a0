import { ticketReassignModal } from '../../views/ticket-reassign-modal.js';
import type { HandlerDeps } from '../types.js';
import { refModalButton } from './ref-modal-button.js';

/** Reassign on a ticket card: the team or an admin picks another member (checked on submit). */
export const ticketReassignButton = (deps: HandlerDeps) => refModalButton(deps, 'reassign', ticketReassignModal);
