import { scrubText } from '@hardening/core';
import type { AlertStats, OutcomeCounts, RecentAlert } from '@hardening/alerting';
import type { AppContext } from '../../app-context.js';
import type { SilenceRecord, SilenceSeverity } from '../../admin/silence-book.js';
import { html } from '../html.js';
import { actionForm, ago, type ActionOutcome, type ConsoleSection, type FormFields, type ViewContext } from '../section.js';

/** What the alerts section shows. */
export interface AlertsData {
  /** Undefined when the history could not be read (`statsError` says why). */
  readonly stats: AlertStats | undefined;
  readonly statsError?: string;
  readonly silences: readonly SilenceRecord[];
  /** Recent alerts one by one, newest first (undefined when the history could not be read). */
  readonly recent: readonly RecentAlert[] | undefined;
}

/** How many recent alerts the page lists. */
const recentShown = 15;
/** How each sink outcome reads, and its tone. */
const sinkTone: Record<RecentAlert['sinks'][number]['outcome'], string> = { delivered: 'pass', confirmed: 'pass', failed: 'fail' };

/** Outcomes shown as columns before `lost` (the rest are in the total). */
const columns = ['delivered', 'suppressed', 'silenced'] as const;
const severities: readonly SilenceSeverity[] = ['HIGH', 'MEDIUM', 'LOW'];
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const alertType = /^[A-Z0-9_]{1,64}$/;
const maxSilenceHours = 7 * 24;

function table(caption: string, rows: ReadonlyArray<readonly [string, OutcomeCounts]>) {
  if (rows.length === 0) return html`<p class="empty">No alert ${caption.toLowerCase()} in the period.</p>`;
  return html`<div class="scroll">
    <table>
      <caption>
        ${caption}
      </caption>
      <thead>
        <tr>
          <th scope="col">${caption.replace(/^By /, '')}</th>
          ${columns.map((c) => html`<th scope="col">${c}</th>`)}
          <th scope="col">lost</th>
          <th scope="col">resolved</th>
          <th scope="col">total</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          ([name, counts]) =>
            html`<tr>
              <th scope="row">${name}</th>
              ${columns.map((c) => html`<td>${counts[c]}</td>`)}
              <td>${counts.failed > 0 ? html`<strong class="err">${counts.failed}</strong>` : '0'}</td>
              <td>${counts.resolved}</td>
              <td>${counts.total}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function recentList(recent: readonly RecentAlert[] | undefined, view: ViewContext) {
  if (recent === undefined) return html`<p class="attention">The recent alerts could not be read; retried at the next update.</p>`;
  if (recent.length === 0) return html`<p class="empty">No alert in the last 24 h.</p>`;
  return html`<ul class="rows" id="recent-alerts">
    ${recent.map(
      (a) =>
        html`<li data-alert-id="${a.alertId}">
          <div>
            <code>${a.type}</code>${a.resourceId === undefined ? '' : html` on <code>${a.resourceId}</code>`}
            <span class="pill ${a.severity === 'HIGH' ? 'fail' : 'warn'}">${a.severity}</span>
            <strong class="${a.outcome === 'failed' ? 'err' : ''}">${a.outcome}</strong>, ${ago(a.lastAt, view.now)} ago
          </div>
          ${
            a.sinks.length === 0
              ? ''
              : html`<ul class="sinks">
                  ${a.sinks.map((s) => html`<li data-sink="${s.sink}"><span class="pill ${sinkTone[s.outcome]}">${s.sink}: ${s.outcome}</span>${s.detail === undefined ? '' : html` <span class="meta">${scrubText(s.detail).slice(0, 200)}</span>`}</li>`)}
                </ul>`
          }
        </li>`,
    )}
  </ul>`;
}

function silenceList(silences: readonly SilenceRecord[], view: ViewContext) {
  if (silences.length === 0) return html`<p class="empty">No active silence.</p>`;
  const matcher = (s: SilenceRecord) =>
    [s.matcher.type?.join(', '), s.matcher.severity?.join(', '), s.matcher.resourceId?.join(', ')].filter((v) => v !== undefined).join(' / ') || 'every alert';
  return html`<ul class="rows" id="silences">
    ${silences.map(
      (s) =>
        html`<li data-silence-id="${s.id}">
          <strong>${matcher(s)}</strong> until ${s.until.slice(0, 16).replace('T', ' ')} UTC (${ago(view.now, new Date(s.until).getTime())}
          left)${s.reason === undefined ? '' : html`: ${s.reason}`}
          ${actionForm(view, 'alerts', 'end-silence', 'End', { fields: { id: s.id }, tone: 'danger', ariaLabel: `End silence of ${matcher(s)}` })}
        </li>`,
    )}
  </ul>`;
}

function createForm(view: ViewContext) {
  const inputs = html`<label>Alert type <input name="type" placeholder="TWILIO_FAILURE" pattern="[A-Z0-9_]{1,64}" autocomplete="off" /></label>
    <label
      >Severity
      <select name="severity">
        <option value="">any</option>
        ${severities.map((s) => html`<option>${s}</option>`)}
      </select></label
    >
    <label>Hours <input name="hours" type="number" min="1" max="${maxSilenceHours}" value="2" required /></label>
    <label>Reason <input name="reason" maxlength="500" required /></label>`;
  return actionForm(view, 'alerts', 'create-silence', 'Create silence', { inputs });
}

async function createSilence(ctx: AppContext, form: FormFields): Promise<ActionOutcome> {
  const type = (form.type ?? '').trim();
  const severity = form.severity ?? '';
  const hours = Number(form.hours);
  const reason = (form.reason ?? '').trim();
  if (type !== '' && !alertType.test(type)) return { kind: 'refused', status: 400, message: 'Alert type must look like TWILIO_FAILURE (capitals, digits, _).' };
  if (severity !== '' && !severities.includes(severity as SilenceSeverity))
    return { kind: 'refused', status: 400, message: 'Severity must be HIGH, MEDIUM or LOW.' };
  if (!Number.isInteger(hours) || hours < 1 || hours > maxSilenceHours)
    return { kind: 'refused', status: 400, message: `Hours must be a whole number from 1 to ${maxSilenceHours}.` };
  if (reason === '' || reason.length > 500) return { kind: 'refused', status: 400, message: 'Say why (1 to 500 characters): the next operator reads it.' };
  const silence = await ctx.silences.create({
    matcher: { ...(type === '' ? {} : { type: [type] }), ...(severity === '' ? {} : { severity: [severity as SilenceSeverity] }) },
    until: new Date(Date.now() + hours * 3_600_000),
    reason,
  });
  ctx.logger.warn({ silenceId: silence.id, matcher: silence.matcher, until: silence.until }, 'alert silence created by an operator (console)');
  return { kind: 'done', message: `Silence created until ${silence.until.slice(0, 16).replace('T', ' ')} UTC.` };
}

async function endSilence(ctx: AppContext, form: FormFields): Promise<ActionOutcome> {
  const id = form.id ?? '';
  if (!uuid.test(id)) return { kind: 'refused', status: 400, message: 'Pick a silence to end.' };
  if (!(await ctx.silences.remove(id))) return { kind: 'refused', status: 404, message: 'No active silence with that id (it may have ended already).' };
  ctx.logger.warn({ silenceId: id }, 'alert silence ended by an operator (console)');
  return { kind: 'done', message: 'Silence ended.' };
}

/**
 * Alerts over the last 24 h by type and severity with their outcomes (`lost` = failed: no
 * sink took it, or the SMS was not delivered), recent alerts one by one with the outcome at
 * each sink (failure reason, SMS receipt), and silences: list, create, end.
 */
export const alertsSection: ConsoleSection<AlertsData> = {
  id: 'alerts',
  title: 'Alerts, last 24 h',
  async load(ctx) {
    const silences = await ctx.silences.list();
    const recent = await ctx.alerts.recentAlerts({ hours: 24, limit: recentShown }).catch((error: unknown) => {
      ctx.logger.warn({ err: scrubText(String(error)) }, 'console: recent alerts unavailable');
      return undefined;
    });
    try {
      return { stats: await ctx.alerts.getAlertStats({ hours: 24 }), silences, recent };
    } catch (error) {
      ctx.logger.warn({ err: String(error) }, 'console: alert stats unavailable');
      return { stats: undefined, statsError: 'The alert history could not be read; it is retried at the next update.', silences, recent };
    }
  },
  render(data, view) {
    const s = data.stats;
    const summary =
      s === undefined
        ? html`<p class="attention">${data.statsError}</p>`
        : html`<p class="summary">
              ${s.total} alert event(s): ${s.delivered} delivered, ${s.suppressed} suppressed, ${s.silenced} silenced,
              <span class="${s.failed > 0 ? 'err' : ''}">${s.failed} lost</span>, ${s.resolved} resolved.
            </p>
            ${table('By type', Object.entries(s.byType))}
            ${table(
              'By severity',
              Object.entries(s.bySeverity).filter(([, c]) => c.total > 0),
            )}`;
    return html`${summary}
      <h3>Recent alerts</h3>
      ${recentList(data.recent, view)}
      <h3>Silences</h3>
      ${silenceList(data.silences, view)}
      <details>
        <summary>New silence</summary>
        ${createForm(view)}
      </details>`;
  },
  actions: { 'create-silence': createSilence, 'end-silence': endSilence },
};
