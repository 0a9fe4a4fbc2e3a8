import { scrubText } from '@hardening/core';
import type { OpenAlert, StuckEntity } from '@hardening/alerting';
import type { AppContext } from '../../app-context.js';
import { outboxView } from '../../admin/views.js';
import { resolveClientByOperator } from '../../admin/clients.js';
import { resolveActions, resolveActionStates, type ResolveAction } from '../../domain/stuck-resolution.js';
import { redriveDelivery, redrivableStatuses } from '../../jobs/redrive.js';
import { findStuckClients } from '../../domain/stuck-clients.js';
import { html } from '../html.js';
import { actionForm, ago, type ActionOutcome, type ConsoleSection, type FormFields, type ViewContext } from '../section.js';

/** How many rows of each list the page shows (the admin API pages through the rest). */
const shown = 20;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the "needs a person" section shows. */
export interface NeedsPersonData {
  /** Alert pages no sink took yet (count and oldest, as the alerting's maintenance last counted). */
  readonly pendingPages: { readonly count: number; readonly oldestAt?: string };
  /** Pages not yet delivered or not yet acknowledged (undefined when the alert store could not be read). */
  readonly openAlerts: readonly OpenAlert[] | undefined;
  readonly stuck: readonly StuckEntity[];
  readonly deadDeliveries: {
    readonly count: number;
    readonly rows: ReadonlyArray<{ id: string; provider: string; kind: string; attempts: number; lastError: string | null; updatedAt: Date }>;
  };
  readonly deadOutbox: { readonly count: number; readonly rows: ReadonlyArray<ReturnType<typeof outboxView>> };
  readonly unknownOutbox: { readonly count: number; readonly rows: ReadonlyArray<ReturnType<typeof outboxView>> };
  /** Inbound events the spool set aside (its file or Redis list). */
  readonly spoolDeadLetters: number;
  /** Alerts acknowledged and not yet lapsed: who took them, and how. */
  readonly acknowledged: ReadonlyArray<{ readonly type: string; readonly code: string; readonly by: string; readonly via: string; readonly at: string }>;
}

const ackTarget = /^([0-9a-fA-F-]{36}|[A-Za-z0-9]{5})$/;

/** The resolutions that apply to a client in `state` (its own, then `acknowledge`). */
function resolutionsFor(state: string): ResolveAction[] {
  return resolveActions.filter((a) => resolveActionStates[a]?.includes(state as never) ?? false).concat('acknowledge');
}

const labels: Record<ResolveAction, string> = {
  activate_payment: 'Activate payment',
  complete_test_call: 'Complete test call',
  allocate_number: 'Allocate number',
  acknowledge: 'Acknowledge (restart the clock)',
};

function stuckList(stuck: readonly StuckEntity[], view: ViewContext) {
  if (stuck.length === 0) return html`<p class="empty">No stuck client.</p>`;
  return html`<ul class="cards" id="stuck-clients">
    ${stuck.map(
      (c) =>
        html`<li class="card" data-client-id="${c.id}">
          <div>
            <strong class="label">${c.label}</strong>
            <span class="pill ${c.severity === 'HIGH' ? 'fail' : 'warn'}">${c.severity}</span
            >${c.terminal ? html` <span class="pill fail">terminal</span>` : ''}
          </div>
          <div class="meta"><code>${c.state}</code> for ${ago(c.enteredAt, view.now)}</div>
          <div class="actions">
            ${resolutionsFor(c.state).map((a) => actionForm(view, 'needs-person', 'resolve', labels[a], { fields: { id: c.id, resolution: a }, ariaLabel: `${labels[a]}: ${c.label}` }))}
          </div>
        </li>`,
    )}
  </ul>`;
}

function openAlertList(open: readonly OpenAlert[], view: ViewContext) {
  if (open.length === 0) return html`<p class="empty">Every page was delivered and acknowledged.</p>`;
  return html`<ul class="cards" id="open-alerts">
    ${open.map((a) => {
      const what = a.title === undefined ? a.type : `${a.type}: ${a.title}`;
      const state = a.state === 'pending' ? html`<span class="pill fail">not delivered</span>` : html`<span class="pill warn">not acknowledged</span>`;
      const when =
        a.state === 'pending'
          ? html`no sink took it for
            ${ago(a.pendingSince ?? view.now, view.now)}${a.sinks.length === 0 ? '' : html` (reached ${a.sinks.join(', ')})`}${a.lastFailure === undefined ? '' : html`: <span class="err">${a.lastFailure.slice(0, 200)}</span>`}`
          : html`delivered ${ago(a.deliveredAt ?? view.now, view.now)} ago to ${a.sinks.length === 0 ? 'its sinks' : a.sinks.join(', ')}`;
      return html`<li class="card" data-alert-id="${a.alertId}">
        <div><strong class="label">${what}</strong> <span class="pill ${a.severity === 'HIGH' ? 'fail' : 'warn'}">${a.severity}</span> ${state}</div>
        <div class="meta">${a.resourceId === undefined ? '' : html`<code>${a.resourceId}</code>, `}ACK code <code>${a.code}</code>; ${when}</div>
        ${a.acknowledgeable ? html`<div class="actions">${actionForm(view, 'needs-person', 'ack', 'Acknowledge', { fields: { target: a.alertId }, ariaLabel: `Acknowledge ${a.type} (${a.code})` })}</div>` : ''}
      </li>`;
    })}
  </ul>`;
}

function outboxRows(rows: NeedsPersonData['unknownOutbox']['rows'], now: number) {
  return html`<ul class="rows">
    ${rows.map((m) => html`<li><code>${m.purpose}</code> to ${m.to}, ${m.attempts} attempt(s), ${ago(m.createdAt, now)} ago${m.lastError === null ? '' : html`: <span class="err">${m.lastError}</span>`}</li>`)}
  </ul>`;
}

async function resolve(ctx: AppContext, form: FormFields): Promise<ActionOutcome> {
  const id = form.id ?? '';
  const resolution = form.resolution as ResolveAction;
  if (!uuid.test(id) || !resolveActions.includes(resolution)) return { kind: 'refused', status: 400, message: 'Pick a client and one of its resolutions.' };
  if (form.confirm !== 'yes') {
    const client = await ctx.db.prisma.client.findUnique({ where: { id }, select: { businessName: true, onboardingState: true } });
    if (client === null) return { kind: 'refused', status: 404, message: 'No such client.' };
    return {
      kind: 'confirm',
      title: `${labels[resolution]}?`,
      detail: `${client.businessName ?? id} is in ${client.onboardingState}. This ${resolution === 'acknowledge' ? 'restarts its dwell clock' : 'moves it on and texts the owner'}, and resolves its stuck-client alerts.`,
    };
  }
  const outcome = await resolveClientByOperator(ctx, id, resolution, 'from the console');
  if (outcome.kind === 'not_found') return { kind: 'refused', status: 404, message: 'No such client.' };
  if (outcome.kind === 'conflict') return { kind: 'refused', status: 409, message: outcome.reason };
  return { kind: 'done', message: `Resolved (${resolution}): now ${outcome.client.onboardingState}; ${outcome.alertsResolved.length} alert(s) resolved.` };
}

async function redrive(ctx: AppContext, form: FormFields): Promise<ActionOutcome> {
  const id = form.id ?? '';
  if (!uuid.test(id)) return { kind: 'refused', status: 400, message: 'Pick a delivery to re-drive.' };
  const outcome = await redriveDelivery(ctx, id);
  switch (outcome.kind) {
    case 'not_found':
      return { kind: 'refused', status: 404, message: 'No such delivery.' };
    case 'conflict':
      return {
        kind: 'refused',
        status: 409,
        message: `The delivery is ${outcome.status}; only ${redrivableStatuses.join(' or ')} deliveries can be re-driven.`,
      };
    case 'not_queued':
      return {
        kind: 'refused',
        status: 503,
        message: `Pending again but not queued now (${scrubText(String(outcome.error)).slice(0, 200)}); the sweep queues it later.`,
      };
    case 'queued':
      return { kind: 'done', message: `Delivery re-driven: ${outcome.delivery.kind} is queued again.` };
  }
}

async function ack(ctx: AppContext, form: FormFields): Promise<ActionOutcome> {
  const target = (form.target ?? '').trim();
  if (!ackTarget.test(target)) return { kind: 'refused', status: 400, message: 'Give the 5-character ACK code from the alert SMS, or the alert id.' };
  let outcome;
  try {
    outcome = await ctx.alerts.acknowledge(target, { by: 'operator (console)', via: 'console' });
  } catch (error) {
    ctx.logger.error({ err: scrubText(String(error)) }, 'console: alert acknowledgement failed: alert store unavailable');
    return { kind: 'refused', status: 503, message: 'The acknowledgement could not be stored (alert store unavailable); try again shortly.' };
  }
  if (outcome.status === 'not_found') return { kind: 'refused', status: 404, message: `No open alert matches ${target}.` };
  if (outcome.status === 'already_acknowledged')
    return { kind: 'done', message: `${outcome.ack.type} was already acknowledged by ${outcome.ack.by} (${outcome.ack.via}).` };
  return { kind: 'done', message: `${outcome.ack.type} acknowledged: its escalation stops.` };
}

/**
 * What needs a person, first: alert pages not delivered or not acknowledged (each with its
 * Acknowledge button; a code from an SMS can be typed too), stuck clients (resolve, with
 * confirmation), dead letters (re-drive) and outbound SMS whose final status is unknown.
 * Halted senders and suppressions have their own section (deliverability.ts).
 */
export const needsPersonSection: ConsoleSection<NeedsPersonData> = {
  id: 'needs-person',
  title: 'Needs a person',
  async load(ctx) {
    const db = ctx.db.prisma;
    const [stuck, deadCount, deadRows, outboxDeadCount, outboxDead, unknownCount, unknownRows, spoolDead] = await Promise.all([
      findStuckClients(db),
      db.webhookDelivery.count({ where: { status: 'dead_letter' } }),
      db.webhookDelivery.findMany({ where: { status: 'dead_letter' }, orderBy: { updatedAt: 'desc' }, take: shown }),
      db.outboundMessage.count({ where: { status: 'dead_letter' } }),
      db.outboundMessage.findMany({ where: { status: 'dead_letter' }, orderBy: { createdAt: 'desc' }, take: shown }),
      db.outboundMessage.count({ where: { status: 'unknown' } }),
      db.outboundMessage.findMany({ where: { status: 'unknown' }, orderBy: { createdAt: 'desc' }, take: shown }),
      ctx.spool.deadLetters().then((d) => d.length),
    ]);
    const alertStatus = ctx.alerts.getAlertSystemStatus();
    const openAlerts = await ctx.alerts.listOpenAlerts().catch((error: unknown) => {
      ctx.logger.warn({ err: scrubText(String(error)) }, 'console: open alerts unavailable (alert store)');
      return undefined;
    });
    return {
      pendingPages: alertStatus.pending,
      openAlerts,
      acknowledged: alertStatus.acknowledged.map((a) => ({ type: a.type, code: a.code, by: a.by, via: a.via, at: a.at })),
      stuck,
      deadDeliveries: { count: deadCount, rows: deadRows },
      deadOutbox: { count: outboxDeadCount, rows: outboxDead.map(outboxView) },
      unknownOutbox: { count: unknownCount, rows: unknownRows.map(outboxView) },
      spoolDeadLetters: spoolDead,
    };
  },
  render(data, view) {
    const pages = data.pendingPages;
    const open = data.openAlerts;
    return html`<h3>Pages not delivered or not acknowledged${open === undefined ? '' : ` (${open.length})`}</h3>
      ${pages.count === 0 ? '' : html`<p class="attention" id="pending-pages"><strong>${pages.count}</strong> page(s) no sink took yet${pages.oldestAt === undefined ? '' : html`, oldest ${ago(pages.oldestAt, view.now)} ago`}; the alerting retries and escalates them.</p>`}
      ${open === undefined ? html`<p class="attention">The open alerts could not be read (alert store unavailable); an ACK code still works below.</p>` : openAlertList(open, view)}
      <details>
        <summary>Acknowledge by ACK code</summary>
        ${actionForm(view, 'needs-person', 'ack', 'Acknowledge', { inputs: html`<label>ACK code or alert id <input name="target" pattern="[0-9a-fA-F-]{36}|[A-Za-z0-9]{5}" required autocomplete="off" /></label>` })}
      </details>
      ${
        data.acknowledged.length === 0
          ? ''
          : html`<ul class="rows" id="acknowledged">
              ${data.acknowledged.map((a) => html`<li><code>${a.type}</code> (${a.code}) acknowledged by ${a.by} via ${a.via}, ${ago(a.at, view.now)} ago</li>`)}
            </ul>`
      }
      <h3>Stuck clients (${data.stuck.length})</h3>
      ${stuckList(data.stuck, view)}
      <h3>Dead letters (${data.deadDeliveries.count + data.deadOutbox.count + data.spoolDeadLetters})</h3>
      ${
        data.deadDeliveries.count === 0
          ? html`<p class="empty">No dead-lettered delivery.</p>`
          : html`<ul class="rows" id="dead-letters">
              ${data.deadDeliveries.rows.map((d) => html`<li data-delivery-id="${d.id}"><code>${d.provider}/${d.kind}</code>, ${d.attempts} attempt(s), ${ago(d.updatedAt, view.now)} ago${d.lastError === null ? '' : html`: <span class="err">${scrubText(d.lastError).slice(0, 200)}</span>`} ${actionForm(view, 'needs-person', 'redrive', 'Re-drive', { fields: { id: d.id }, ariaLabel: `Re-drive ${d.provider} ${d.kind} delivery` })}</li>`)}
            </ul>`
      }
      ${
        data.deadOutbox.count === 0
          ? ''
          : html`<p>${data.deadOutbox.count} outbound SMS dead-lettered (not sent, no retry left):</p>
              ${outboxRows(data.deadOutbox.rows, view.now)}`
      }
      ${data.spoolDeadLetters === 0 ? '' : html`<p class="attention">${data.spoolDeadLetters} inbound event(s) set aside by the spool (SPOOL_DEAD_LETTER): see the spool's dead letter.</p>`}
      <h3>Unknown final status (${data.unknownOutbox.count})</h3>
      ${data.unknownOutbox.count === 0 ? html`<p class="empty">Every sent SMS has a known outcome.</p>` : outboxRows(data.unknownOutbox.rows, view.now)}`;
  },
  actions: { resolve, redrive, ack },
};
