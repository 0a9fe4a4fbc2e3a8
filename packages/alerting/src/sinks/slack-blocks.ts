import type { AlertMessage } from '../alert.js';
import { displayResource, headline, kindLabel, scrubContext, scrubText, truncate } from '../format.js';

/** Slack's mrkdwn needs these three escaped (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The `action_id` of the "Acknowledge" button (what the interactivity handler looks for). */
export const slackAckActionId = 'hardening_alert_ack';

function emoji(message: AlertMessage): string {
  if (message.kind === 'resolve') return ':white_check_mark:';
  if (message.kind === 'escalation') return ':arrow_double_up:';
  return { HIGH: ':rotating_light:', MEDIUM: ':warning:', LOW: ':information_source:' }[message.severity];
}

function showValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  return JSON.stringify(value);
}

/**
 * Block Kit blocks for an alert: a header with severity and title, fields for severity,
 * type, resource and time, the message, up to 10 context fields, link buttons, and the
 * dedup key. Everything is scrubbed of phone numbers, emails and secrets and cut to
 * Slack's size limits.
 *
 * @param message - The alert.
 * @param mention - Text put before the message (`<!channel>`, `<!subteam^S0123>`), if any.
 * @param ackButton - Whether to add an "Acknowledge" button (not on resolve notices).
 * @returns The `blocks` and the notification `text`.
 */
export function slackBlocks(message: AlertMessage, mention?: string, ackButton = false): { text: string; blocks: unknown[] } {
  const title = scrubText(message.title);
  const resource = displayResource(message.resourceId);
  const seconds = Math.floor(Date.parse(message.occurredAt) / 1000);
  const fields = [
    { type: 'mrkdwn', text: `*Severity*\n${kindLabel(message)}` },
    { type: 'mrkdwn', text: `*Type*\n\`${escapeMrkdwn(message.type)}\`` },
    ...(resource !== undefined ? [{ type: 'mrkdwn', text: `*Resource*\n${escapeMrkdwn(resource)}` }] : []),
    { type: 'mrkdwn', text: `*Raised*\n<!date^${seconds}^{date_short_pretty} {time_secs}|${message.occurredAt}>` },
  ];
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${emoji(message)} [${kindLabel(message)}] ${title}`, 150), emoji: true } },
    { type: 'section', fields },
  ];
  const body = scrubText(message.message.trim());
  if (body !== '' || mention !== undefined) {
    const text = [mention, body === '' ? undefined : escapeMrkdwn(body)].filter(Boolean).join(' ');
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } });
  }
  if (message.context !== undefined && message.members === undefined) {
    const scrubbed = scrubContext(message.context) as Record<string, unknown>;
    const contextFields = Object.entries(scrubbed)
      .filter(([, value]) => value !== undefined)
      .slice(0, 10)
      .map(([key, value]) => ({ type: 'mrkdwn', text: truncate(`*${escapeMrkdwn(key)}*\n${escapeMrkdwn(showValue(value))}`, 300) }));
    if (contextFields.length > 0) blocks.push({ type: 'section', fields: contextFields });
  }
  if (message.links.length > 0) {
    blocks.push({
      type: 'actions',
      elements: message.links.slice(0, 5).map((link, index) => ({
        type: 'button',
        action_id: `alert_link_${index}`,
        text: { type: 'plain_text', text: truncate(link.text, 75) },
        url: link.url,
      })),
    });
  }
  if (ackButton && message.kind !== 'resolve') {
    const value = JSON.stringify({ type: message.type, key: message.key, id: message.id });
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: slackAckActionId,
          style: 'primary',
          text: { type: 'plain_text', text: 'Acknowledge' },
          // Slack caps a button's value at 2000 characters; the id alone still finds the alert.
          value: value.length <= 2000 ? value : JSON.stringify({ id: message.id }),
        },
      ],
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `dedup key \`${escapeMrkdwn(message.resourceId === undefined ? message.dedupKey : `${message.type}/${resource}`)}\` · alert ${message.id}`,
      },
    ],
  });
  const text = truncate(`${mention !== undefined ? `${mention} ` : ''}${headline(message)}${resource !== undefined ? ` (${resource})` : ''}`, 3000);
  return { text, blocks };
}
