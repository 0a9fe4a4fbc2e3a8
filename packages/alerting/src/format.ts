import { maskPhoneNumber, scrubText as coreScrubText, scrubValue } from '@hardening/core';
import type { AlertMessage } from './alert.js';

// Works around a limitation of core's scrubText: its phone-number pattern also matches
// dates ("2026-03-01" has 8 digits), which alerts are full of. Dates and times in ISO 8601
// are set aside before scrubbing and put back after.
const isoDate = /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?![\d-])/g;
const placeholder = /\uE000(\d+)\uE001/g;

/**
 * Scrubs phone numbers, emails and secrets out of text like core's `scrubText`, keeping
 * ISO 8601 dates and times intact.
 *
 * @param text - Any text.
 * @returns The scrubbed text.
 */
export function scrubText(text: string): string {
  const kept: string[] = [];
  const guarded = String(text).replace(isoDate, (match) => `\uE000${kept.push(match) - 1}\uE001`);
  return coreScrubText(guarded).replace(placeholder, (_, index: string) => kept[Number(index)] ?? '');
}

/**
 * Scrubs a JSON-like value like core's `scrubValue` (secret-looking keys redacted,
 * phone-looking keys masked), keeping ISO 8601 dates in strings intact.
 *
 * @param value - Any JSON-like value.
 * @returns A scrubbed copy.
 */
export function scrubContext(value: unknown): unknown {
  const kept: string[] = [];
  const guard = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return v.replace(isoDate, (match) => `\uE000${kept.push(match) - 1}\uE001`);
    if (v instanceof Date) return `\uE000${kept.push(v.toISOString()) - 1}\uE001`;
    if (v === null || typeof v !== 'object' || depth > 8 || v instanceof Error) return v;
    if (Array.isArray(v)) return v.map((item) => guard(item, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([key, item]) => [key, guard(item, depth + 1)]));
  };
  const restore = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(placeholder, (_, index: string) => kept[Number(index)] ?? '');
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(restore);
    return Object.fromEntries(Object.entries(v).map(([key, item]) => [key, restore(item)]));
  };
  return restore(scrubValue(guard(value, 0)));
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
