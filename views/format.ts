/** Small text helpers shared by the builders. Outside text goes through escapeText (one function, in the domain). */
export { escapeText } from '../src/domain/slack-text.js';

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function plain(text: string, max = 75) {
  return { type: 'plain_text' as const, text: truncate(text, max), emoji: true };
}

export function slackDate(date: Date): string {
  const seconds = Math.floor(date.getTime() / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${date.toISOString()}>`;
}
