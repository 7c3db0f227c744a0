import { ticketReplyModal } from '../../views/ticket-reply-modal.js';
import type { HandlerDeps } from '../types.js';
import { refModalButton } from './ref-modal-button.js';

/** Reply on an email ticket: the staff member writes to the customer (roles checked on submit). */
export const ticketReplyButton = (deps: HandlerDeps) => refModalButton(deps, 'reply', ticketReplyModal);
