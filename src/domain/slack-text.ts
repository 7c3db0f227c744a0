/**
 * The one escaping function for text that reaches Slack from outside (a customer's subject, body,
 * name or project names, anything typed into a form). Slack reads `<…>` as a mention, a channel
 * ping or a link with a label of the sender's choosing, and `&` starts an entity; with these three
 * escaped the text shows as written and can never ping anyone or disguise a link. Used by every
 * view builder and by services that write thread lines, for blocks and notification `text` alike.
 */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
