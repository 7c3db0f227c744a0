/**
 * The shape of an email waiting in the outbox. Built by services (with a Message-ID fixed at
 * enqueue time, so retries send the same message and threading can be recorded before sending),
 * delivered by the mailer.
 */
export interface EmailPayload {
  /** Our mailbox address it is sent from, e.g. `support@example.com`. */
  from: string;
  fromName?: string;
  to: string;
  /** Where the customer's answer should go: the ticket's signed plus address, so it joins the ticket. */
  replyTo?: string;
  /** Already carries `[AR-n]`. */
  subject: string;
  text: string;
  /** Without angle brackets, on MAIL_DOMAIN. */
  messageId: string;
  inReplyTo?: string;
  references?: string[];
  /** True for automatic answers (acknowledgements): adds Auto-Submitted and X-Auto-Response-Suppress. */
  automatic: boolean;
}
