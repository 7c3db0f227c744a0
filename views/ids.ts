/**
 * Every callback_id, block_id and action_id, defined once and imported by views, handlers and tests.
 * Input blocks use the same string for block_id and action_id: the field's name.
 */
export const COMMANDS = {
  ticket: '/ticket',
} as const;

export const TICKET_NEW = {
  callbackId: 'ticket_new',
  fields: {
    kind: 'kind',
    title: 'title',
    accountId: 'account_id',
    description: 'description',
  },
} as const;

export const TICKET_CARD = {
  blockId: (ref: string) => `ticket_card_${ref}`,
  actionsBlock: 'ticket_actions',
  actions: {
    claim: 'ticket_claim',
    reply: 'ticket_reply',
    changeKind: 'ticket_change_kind',
    close: 'ticket_close',
  },
} as const;

export const TICKET_REPLY = {
  callbackId: 'ticket_reply',
  fields: { body: 'body' },
} as const;

export const HOME = {
  ticketsBlock: 'home_tickets',
} as const;
