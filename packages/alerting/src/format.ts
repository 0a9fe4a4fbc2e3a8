import { maskPhoneNumber, scrubText as coreScrubText, scrubValue } from '@hardening/core';
import type { AlertMessage } from './alert.js';

/**
 * Scrubs phone numbers, emails and secrets out of alert text (core's `scrubText`, which
 * keeps dates, times and long ids intact).
 *
 * @param text - Any text.
 * @returns The scrubbed text.
 */
export function scrubText(text: string): string {
  return coreScrubText(text);
}

/**
 * Scrubs an alert's context (core's `scrubValue`: secret-looking keys redacted,
 * phone-looking keys masked, strings scrubbed, dates kept as ISO strings).
 *
 * @param value - Any JSON-like value.
 * @returns A scrubbed copy.
 */
export function scrubContext(value: unknown): unknown {
  return scrubValue(value);
}

/**
 * A resource id fit to leave the process: an id that is a phone number is masked, one
 * with an email or a secret in it is scrubbed; ordinary ids (`client_42`, `ord_20261126`)
 * are kept as they are, since `scrubText` would mask their long digit runs.
 *
 * @param resourceId - The id.
 * @returns The id to show.
 */
export function displayResource(resourceId: string | undefined): string | undefined {
  if (resourceId === undefined) return undefined;
  if (/^\+?[\d\s().-]{7,}$/.test(resourceId.trim())) return maskPhoneNumber(resourceId);
  if (/@|xox|sk_|whsec_|Bearer|Basic/i.test(resourceId)) return scrubText(resourceId);
  return resourceId;
}

/** The label in front of an alert's title: `[HIGH]`, `[ESCALATED HIGH]`, `[RESOLVED]`. */
export function kindLabel(message: AlertMessage): string {
  if (message.kind === 'resolve') return 'RESOLVED';
  if (message.kind === 'escalation') return `ESCALATED ${message.severity}`;
  return message.severity;
}

/** `[HIGH] PAYMENT_FAILED: Stripe webhooks failing`, scrubbed. */
export function headline(message: AlertMessage): string {
  return `[${kindLabel(message)}] ${message.type}: ${scrubText(message.title)}`;
}

/**
 * The alert as plain text (SMS, webhook summaries), scrubbed, cut at `maxLength`
 * characters on a word boundary with an ellipsis.
 *
 * @param message - The alert.
 * @param maxLength - Longest text allowed.
 * @returns The text.
 */
export function plainText(message: AlertMessage, maxLength: number): string {
  const lines = [headline(message)];
  const resource = displayResource(message.resourceId);
  if (resource !== undefined) lines.push(`Resource: ${resource}`);
  if (message.message.trim() !== '') lines.push(scrubText(message.message.trim()));
  return truncate(lines.join('\n'), maxLength);
}

/**
 * Cuts text to `maxLength` characters (ellipsis included), preferring a word boundary.
 *
 * @param text - Any text.
 * @param maxLength - Longest result.
 * @returns The text, cut when needed.
 */
export function truncate(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  const cut = text.slice(0, Math.max(0, maxLength - 3));
  const space = cut.lastIndexOf(' ');
  return `${space > maxLength * 0.6 ? cut.slice(0, space) : cut}...`;
}

/**
 * The alert as a scrubbed plain object for logs, Sentry and webhooks: no phone numbers,
 * emails or secrets, members reduced to their resource and title.
 *
 * @param message - The alert.
 * @returns A JSON-safe, scrubbed copy.
 */
export function scrubbedAlert(message: AlertMessage): Record<string, unknown> {
  return {
    id: message.id,
    kind: message.kind,
    type: message.type,
    severity: message.severity,
    resourceId: displayResource(message.resourceId),
    key: message.resourceId === undefined ? message.key : displayResource(message.key),
    title: scrubText(message.title),
    message: scrubText(message.message),
    context: message.context === undefined ? undefined : scrubContext(message.context),
    links: message.links.map((l) => ({ text: l.text, url: l.url })),
    occurredAt: message.occurredAt,
    members: message.members?.map((m) => ({ id: m.id, resourceId: displayResource(m.resourceId), title: scrubText(m.title) })),
  };
}
