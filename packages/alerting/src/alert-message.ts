import { randomUUID } from 'node:crypto';
import type { AlertInput, AlertLink, AlertMessage, Severity } from './alert.js';
import { severities } from './alert.js';

const typePattern = /^[A-Za-z0-9_.:-]{1,100}$/;

/** The key of a system-wide alert (no resource). */
export const noResourceKey = '*';

/**
 * The dedup key of an alert within its type: the resource id, or `*`.
 *
 * @param resourceId - The resource, if any.
 * @returns The key.
 */
export function alertKeyOf(resourceId: string | undefined): string {
  return resourceId === undefined || resourceId === '' ? noResourceKey : resourceId;
}

/**
 * Checks an alert input; returns what is wrong, or `undefined` when it is fine.
 *
 * @param input - What the app passed.
 * @returns A message naming the bad field.
 */
export function validateAlertInput(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return 'Expected the alert to be an object.';
  const alert = input as Record<string, unknown>;
  if (typeof alert.type !== 'string' || !typePattern.test(alert.type)) {
    return `Expected \`type\` to be 1-100 letters, digits or _.:- characters, got ${JSON.stringify(alert.type)}.`;
  }
  if (!severities.includes(alert.severity as Severity)) {
    return `Expected \`severity\` to be one of ${severities.join(', ')}, got ${JSON.stringify(alert.severity)}.`;
  }
  if (alert.resourceId !== undefined && (typeof alert.resourceId !== 'string' || alert.resourceId.length > 200)) {
    return 'Expected `resourceId` to be a string of at most 200 characters.';
  }
  if (typeof alert.title !== 'string' || alert.title.trim() === '') return 'Expected `title` to be a non-empty string.';
  if (typeof alert.message !== 'string') return 'Expected `message` to be a string.';
  if (alert.context !== undefined && (typeof alert.context !== 'object' || alert.context === null || Array.isArray(alert.context))) {
    return 'Expected `context` to be a plain object.';
  }
  if (alert.links !== undefined) {
    if (!Array.isArray(alert.links)) return 'Expected `links` to be an array of { text, url }.';
    for (const link of alert.links as unknown[]) {
      const l = link as Partial<AlertLink> | null;
      if (typeof l?.text !== 'string' || typeof l.url !== 'string' || !/^https?:\/\//.test(l.url)) {
        return 'Expected every entry of `links` to be { text, url } with an http(s) URL.';
      }
    }
  }
  return undefined;
}

/**
 * Builds the message the sinks receive from a (valid) input.
 *
 * @param input - The app's alert.
 * @param now - Epoch ms.
 * @returns A frozen {@link AlertMessage}.
 */
export function buildAlertMessage(input: AlertInput, now: number): AlertMessage {
  const resourceId = input.resourceId === '' ? undefined : input.resourceId;
  const key = alertKeyOf(resourceId);
  return Object.freeze({
    id: randomUUID(),
    kind: 'alert',
    type: input.type,
    severity: input.severity,
    resourceId,
    key,
    dedupKey: `${input.type}/${key}`,
    title: input.title.trim(),
    message: input.message,
    context: input.context,
    links: Object.freeze([...(input.links ?? [])]),
    occurredAt: new Date(now).toISOString(),
    members: undefined,
  });
}

/** The higher of two severities. */
export function maxSeverity(a: Severity, b: Severity): Severity {
  return severities.indexOf(a) >= severities.indexOf(b) ? a : b;
}

/**
 * One message standing for several alerts of one type ("3 STUCK_STATE alerts: ..."),
 * with the highest severity among them.
 *
 * @param members - Two or more alerts of the same type.
 * @param title - The group's title.
 * @param now - Epoch ms.
 * @returns The aggregated message.
 */
export function buildGroupMessage(members: readonly AlertMessage[], title: string, now: number): AlertMessage {
  const first = members[0]!;
  const severity = members.reduce<Severity>((max, m) => maxSeverity(max, m.severity), 'LOW');
  const lines = members.map((m) => `- ${m.resourceId ?? m.key}: ${m.title}`);
  return Object.freeze({
    id: randomUUID(),
    kind: first.kind,
    type: first.type,
    severity,
    resourceId: undefined,
    key: `group:${first.id}`,
    dedupKey: `${first.type}/group:${first.id}`,
    title,
    message: lines.join('\n'),
    context: { resources: members.map((m) => m.resourceId ?? m.key) },
    links: Object.freeze(members.flatMap((m) => m.links).slice(0, 5)),
    occurredAt: new Date(now).toISOString(),
    members: Object.freeze([...members]),
  });
}

/**
 * The default title of an aggregated message: `3 STUCK_STATE alerts: client_1, client_2, client_3`.
 *
 * @param members - The alerts of the group.
 * @returns A one-line title.
 */
export function defaultGroupTitle(members: readonly AlertMessage[]): string {
  const names = members.slice(0, 5).map((m) => m.resourceId ?? m.key);
  const more = members.length > 5 ? `, +${members.length - 5} more` : '';
  return `${members.length} ${members[0]!.type} alerts: ${names.join(', ')}${more}`;
}

/**
 * A copy of `message` as another kind (escalation, resolve notice) with a new id.
 *
 * @param message - The original.
 * @param changes - Fields to replace.
 * @returns The new message.
 */
export function deriveMessage(message: AlertMessage, changes: Partial<AlertMessage>): AlertMessage {
  return Object.freeze({ ...message, id: randomUUID(), ...changes });
}
