/**
 * Every callback_id, block_id and action_id, defined once and imported by views, handlers and tests.
 * Input blocks use the same string for block_id and action_id: the field's name.
 */
export const COMMANDS = {
  ticket: '/ticket',
  migrate: '/migrate',
  plan: '/plan',
  account: '/account',
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
  /** Migration tickets: requested → … → completed. */
  progressBlock: 'ticket_progress',
  /** Migration tickets: the customer's last action on their page ("customer (email) paid …"). */
  customerBlock: 'ticket_customer',
  actionsBlock: 'ticket_actions',
  /** "first response due in 1 h 20 m" / "overdue by 15 m". */
  slaBlock: 'ticket_sla',
  /** Reassign and Waiting on customer, beside the ticket's own actions. */
  ownerActionsBlock: 'ticket_owner_actions',
  actions: {
    reassign: 'ticket_reassign',
    waitOnCustomer: 'ticket_wait_on_customer',
    claim: 'ticket_claim',
    reply: 'ticket_reply',
    changeKind: 'ticket_change_kind',
    close: 'ticket_close',
    /** On migration tickets: opens the handoff modal. */
    startHandoff: 'migration_start_handoff',
  },
} as const;

/** The sales-to-billing handoff modal; block and action IDs are fixed by CONTRACT.md. */
export const MIGRATION_HANDOFF = {
  callbackId: 'migration_handoff',
  fields: {
    customerName: 'customer_name',
    accountId: 'account_id',
    salespersonEmail: 'salesperson_email',
    enterprisePlan: 'enterprise_plan',
    enterpriseStartDate: 'enterprise_start_date',
    /** Optional addition: where the migration emails go when the ticket did not come by email. */
    customerEmail: 'customer_email',
    notes: 'notes',
  },
} as const;

/** The handoff as posted to the billing channel, with billing's buttons. */
export const HANDOFF_CARD = {
  blockId: (ref: string) => `handoff_card_${ref}`,
  fieldsBlock: 'handoff_fields',
  notesBlock: 'handoff_notes',
  /** Where the C4S cancellation stands (scheduled for / recorded). */
  scheduleBlock: 'handoff_schedule',
  actionsBlock: 'handoff_actions',
  /** Billing summary, payment, projects and account team as recorded. */
  progressBlock: 'handoff_progress',
  stepsBlock: 'handoff_steps',
  /** Once completed: the Customer Success, Technical and Key Account Managers. */
  teamBlock: 'handoff_team',
  /** The customer's last action on their migration page. */
  customerBlock: 'handoff_customer',
  actions: {
    confirm: 'migration_confirm',
    withdraw: 'migration_withdraw',
    /** Opens MIGRATION_SUMMARY. */
    summary: 'migration_summary',
    /** A select: pending / failed (opens MIGRATION_PAYMENT_FAILED) / succeeded; gone once a payment succeeded. */
    payment: 'migration_payment',
    /** Opens MIGRATION_PROJECTS. */
    projects: 'migration_projects',
    start: 'migration_start',
    /** Opens MIGRATION_COMPLETE. */
    complete: 'migration_complete',
    /** Trusts the address that proposed projects by email (it was not one the ticket trusts). */
    trustSender: 'migration_trust_sender',
    /** Emails the customer a new page link; every earlier link stops working. */
    newLink: 'migration_new_link',
  },
} as const;

/** Billing's summary of the C4S plan: credits, or dues and how they are paid. */
export const MIGRATION_SUMMARY = {
  callbackId: 'migration_billing_summary',
  fields: {
    outcome: 'billing_outcome',
    amount: 'amount',
    currency: 'currency',
    method: 'payment_method',
    payNow: 'pay_now_by_card',
    note: 'billing_note',
  },
} as const;

/** Why a payment failed: opened by choosing "Payment failed" on the handoff card. */
export const MIGRATION_PAYMENT_FAILED = {
  callbackId: 'migration_payment_failed',
  fields: { reason: 'payment_failure_reason', detail: 'payment_failure_detail' },
} as const;

/** The live and test projects to migrate. */
export const MIGRATION_PROJECTS = {
  callbackId: 'migration_projects',
  fields: { live: 'live_projects', test: 'test_projects' },
} as const;

/** Completion, with the account team the salesperson introduces. */
export const MIGRATION_COMPLETE = {
  callbackId: 'migration_complete',
  fields: { csm: 'csm', tam: 'tam', kam: 'kam' },
} as const;

/** Reassign a ticket to another member of its team. */
export const TICKET_REASSIGN = {
  callbackId: 'ticket_reassign',
  fields: { owner: 'owner' },
} as const;

export const TICKET_REPLY = {
  callbackId: 'ticket_reply',
  fields: { body: 'body' },
} as const;

export const HOME = {
  ticketsBlock: 'home_tickets',
  billingAwaitingBlock: 'home_billing_awaiting',
  billingBlockedBlock: 'home_billing_blocked',
  billingCancellationsBlock: 'home_billing_cancellations',
  salesHandoffsBlock: 'home_sales_handoffs',
  mineOverdueBlock: 'home_mine_overdue',
  mineDueSoonBlock: 'home_mine_due_soon',
  mineWaitingBlock: 'home_mine_waiting',
  queueBlock: (team: string) => `home_queue_${team}`,
  queuePagerBlock: (team: string) => `home_queue_pager_${team}`,
  awayBlock: 'home_away',
  actions: {
    /** Value `<team>|<page>`: another page of the team's unowned queue. */
    queuePage: 'home_queue_page',
    /** Marks the viewer away (value `away`) or back (`back`): round-robin passes them by. */
    away: 'home_away_toggle',
  },
  /** Shown instead of everything else to someone without a team role. */
  refusedBlock: 'home_refused',
} as const;

/** `/plan`: one modal for every plan change; selects dispatch actions so the preview follows them. */
export const PLAN_MODAL = {
  callbackId: 'plan_change',
  fields: {
    accountId: 'account_id',
    change: 'change_type',
    tier: 'target_tier',
    addon: 'addon',
    reason: 'reason',
    confirm: 'confirm_delete',
    region: 'region',
  },
  /** The "what will happen and when" section, rebuilt on every choice. */
  previewBlock: 'plan_preview',
  /** `/plan <accountId>` for an account the bot does not know: the modal is replaced by this notice. */
  unknownAccountBlock: 'plan_unknown_account',
  /** Replaces the modal's content when the person may not change plans. */
  refusedBlock: 'plan_refused',
} as const;

/** `/account`: the account, its scheduled changes (with Cancel where allowed) and open tickets. */
export const ACCOUNT_VIEW = {
  headerBlock: 'account_header',
  fieldsBlock: 'account_fields',
  pendingBlock: (changeId: string) => `account_pending_${changeId}`.slice(0, 255),
  ticketsBlock: 'account_tickets',
  actionsBlock: 'account_actions',
  /** The account's live and test projects (offered to the customer on the migration page). */
  projectsBlock: 'account_projects',
  actions: {
    cancelChange: 'plan_cancel_change',
    billingDetailsComplete: 'account_billing_details_complete',
    /** Opens ACCOUNT_PROJECTS (billing). */
    editProjects: 'account_edit_projects',
  },
} as const;

/** Billing edits an account's projects: one name per line, live and test. */
export const ACCOUNT_PROJECTS = {
  callbackId: 'account_projects',
  fields: { live: 'account_live_projects', test: 'account_test_projects' },
} as const;

/** On a reactivation ticket's card: support approves the reactivation of the paused account. */
export const REACTIVATION_CARD = {
  actions: { approve: 'plan_approve_reactivation' },
} as const;
