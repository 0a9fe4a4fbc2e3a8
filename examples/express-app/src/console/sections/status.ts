import type { AlertSystemStatus } from '@hardening/alerting';
import type { HealthReport } from '@hardening/health';
import { html } from '../html.js';
import type { ConsoleSection } from '../section.js';

/** What the status header shows. */
export interface StatusData {
  readonly health: Pick<HealthReport, 'status' | 'output' | 'lifecycle'> & {
    /** Checks not passing: key, status, what they said. */
    readonly failing: ReadonlyArray<{ readonly key: string; readonly status: string; readonly output: string }>;
  };
  readonly alerts: Pick<AlertSystemStatus, 'enabled' | 'reason' | 'problems' | 'stores' | 'pending'>;
  /** Senders the campaign breaker halted (see the deliverability section). */
  readonly haltedSenders: number;
  /** Breakers not closed. */
  readonly openBreakers: ReadonlyArray<{ readonly name: string; readonly state: string }>;
  /** Stores down or slow: the alert stores as the alerting sees them, and the database/Redis checks. */
  readonly storeOutages: readonly string[];
}

const storeChecks = new Set(['database', 'redis']);

/**
 * The status header: overall health with the checks that do not pass, an alerts-disabled
 * banner that cannot be missed, open circuit breakers and halted senders, store outages.
 */
export const statusSection: ConsoleSection<StatusData> = {
  id: 'status',
  title: undefined,
  async load(ctx) {
    const report = await ctx.health.monitor.report();
    const failing = report.checks
      .filter((c) => c.status !== 'pass')
      .map((c) => ({
        key: c.key,
        status: c.status,
        output: c.observations
          .map((o) => o.output)
          .filter((o) => o !== undefined)
          .join('; '),
      }));
    const alerts = ctx.alerts.getAlertSystemStatus();
    const haltedSenders = await ctx.db.prisma.smsSenderHalt.count({ where: { active: true } });
    const openBreakers = ctx.breakers
      .snapshot()
      .filter((b) => b.state !== 'closed')
      .map((b) => ({ name: b.name, state: b.state }));
    const storeOutages = [
      ...alerts.stores.filter((s) => s.state !== 'up').map((s) => `alert store ${s.store}: ${s.state}${s.reason === undefined ? '' : ` (${s.reason})`}`),
      ...report.checks.filter((c) => storeChecks.has(c.name) && c.status !== 'pass').map((c) => `${c.name}: ${c.status}`),
    ];
    return {
      health: { status: report.status, output: report.output, lifecycle: report.lifecycle, failing },
      alerts: {
        enabled: alerts.enabled,
        ...(alerts.reason === undefined ? {} : { reason: alerts.reason }),
        problems: alerts.problems,
        stores: alerts.stores,
        pending: alerts.pending,
      },
      haltedSenders,
      openBreakers,
      storeOutages,
    };
  },
  render(data) {
    const { health, alerts } = data;
    const banner = alerts.enabled
      ? undefined
      : html`<div class="banner" role="alert" id="alerts-disabled">
          <strong>ALERTS ARE OFF.</strong> No alert reaches a person: ${alerts.reason ?? 'no remote sink'}.
        </div>`;
    const failing =
      health.failing.length === 0
        ? undefined
        : html`<ul class="checks">
            ${health.failing.map((c) => html`<li><span class="pill ${c.status}">${c.status}</span> <code>${c.key}</code> ${c.output}</li>`)}
          </ul>`;
    return html`${banner}
      <div class="status-grid">
        <div class="tile">
          <h2>Health</h2>
          <p>
            <span class="pill big ${health.status}" id="health-status">${health.status}</span
            >${health.lifecycle === 'running' ? '' : html` (${health.lifecycle})`}
          </p>
          ${health.output === undefined ? '' : html`<p>${health.output}</p>`}${failing}
        </div>
        <div class="tile">
          <h2>Alerts</h2>
          <p><span class="pill ${alerts.enabled ? 'pass' : 'fail'}">${alerts.enabled ? 'enabled' : 'disabled'}</span></p>
          ${
            alerts.problems.length === 0
              ? ''
              : html`<ul>
                  ${alerts.problems.map((p) => html`<li>${p}</li>`)}
                </ul>`
          }
        </div>
        <div class="tile">
          <h2>Circuit breakers</h2>
          ${data.haltedSenders === 0 ? '' : html`<p id="halted-count"><span class="pill fail">${data.haltedSenders} sender(s) halted</span> <a href="#section-deliverability">see below</a></p>`}${
            data.openBreakers.length === 0
              ? html`<p>all closed</p>`
              : html`<ul id="open-breakers">
                  ${data.openBreakers.map((b) => html`<li><span class="pill warn">${b.state}</span> ${b.name}</li>`)}
                </ul>`
          }
        </div>
        <div class="tile">
          <h2>Stores</h2>
          ${
            data.storeOutages.length === 0
              ? html`<p>all up</p>`
              : html`<ul>
                  ${data.storeOutages.map((s) => html`<li><span class="pill fail">outage</span> ${s}</li>`)}
                </ul>`
          }
        </div>
      </div>`;
  },
};
