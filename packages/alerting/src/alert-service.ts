import { randomUUID } from 'node:crypto';
import { alertTelemetry } from './telemetry.js';
import type { Logger } from '@hardening/core';
import type { AlertInput, AlertMessage, AlertResult, AlertStatus } from './alert.js';
import { severities } from './alert.js';
import { alertKeyOf, buildAlertMessage, buildGroupMessage, defaultGroupTitle, deriveMessage, validateAlertInput } from './alert-message.js';
import type { AcknowledgeOptions, AcknowledgeResult, AckTarget } from './acknowledgements/acknowledgements.js';
import { Acknowledgements } from './acknowledgements/acknowledgements.js';
import type { SmsAckOutcome } from './acknowledgements/sms-ack.js';
import { AlertReports, type OpenAlert, type RecentAlert, type RecentAlertsOptions } from './open-alerts.js';
import { FleetGroups } from './grouping/fleet-groups.js';
import type { Clock } from './clock.js';
import type { DeliveryReport } from './delivery.js';
import { describeError } from './delivery.js';
import { DeliveryUnconfirmedError } from './errors/delivery-unconfirmed-error.js';
import { Escalator } from './escalation/escalator.js';
import { headline, scrubbedAlert, scrubText } from './format.js';
import type { HistoryWriter } from './history-writer.js';
import { Inhibitor } from './inhibition/inhibitor.js';
import { MaintenanceLoop } from './maintenance-loop.js';
import { createAlertSafeCall } from './alert-safe-call.js';
import { createAlertHistory } from './alert-history.js';
import { announceStartup } from './startup-notices.js';
import { MaintenanceRound } from './maintenance/maintenance-round.js';
import { PendingRetries } from './maintenance/pending-retries.js';
import { SelfWatch } from './maintenance/self-watch.js';
import type { DeliveryPayload } from './maintenance/sms-failover.js';
import { SmsFailover } from './maintenance/sms-failover.js';
import type { ClaimPath, GateClaim } from './claims/claim-gate.js';
import { ClaimGate } from './claims/claim-gate.js';
import type { PendingPage, PendingPages } from './pending-pages.js';
import { AlertRuntime } from './runtime.js';
import type { SilenceMatcher, SilenceOptions, SilenceRecord } from './silences.js';
import { SharedSilences } from './shared-silences.js';
import { acknowledgeAlert, handleSmsAckReply } from './operator-acks.js';
import { buildAlertSystemStatus } from './status/system-status.js';
import type {
  AlertResultEvent,
  AlertServiceOptions,
  AlertSystemStatus,
  RestoreSilence,
  ResolveInput,
  DeliveryStatusUpdate,
  DeliveryStatusOutcome,
  MaintenanceReport,
} from './alert-service-options.js';
import type { AlertStats } from './stats.js';
import { buildStats } from './stats.js';
import type { AlertHistoryEntry, AlertOutcome, AlertStore, TrackedDelivery } from './store/alert-store.js';
import { defaults, resolveAlertServiceOptions } from './resolve-alert-service-options.js';

const hour = 3_600_000;

/**
 * Critical alerts that reach a person, once. `sendCriticalAlert` never throws: it resolves
 * with what happened (delivered and to which sinks, suppressed as a duplicate, silenced,
 * inhibited, disabled, or failed and fell back). See the package README for the flow.
 *
 * @example
 * ```ts
 * import { createAlertService } from '@hardening/alerting';
 * const alerts = createAlertService({ sinks: [sms, slack] });
 * const result = await alerts.sendCriticalAlert({
 *   type: 'OPENAI_FAILURE', severity: 'HIGH', title: 'OpenAI failing', message: '5 failures in 15 minutes',
 * });
 * console.log(result.status, result.deliveredTo); // 'delivered' ['sms', 'slack']
 * ```
 */
export class AlertService {
  private readonly runtime: AlertRuntime;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly store: AlertStore;
  /** The durable store (history, pending pages, receipts, acks, timers): `durableStore`, else `store`. */
  private readonly durable: AlertStore;
  private readonly gate: ClaimGate;
  private readonly retries: PendingRetries;
  private readonly pending: PendingPages;
  private readonly failover: SmsFailover;
  private readonly escalator: Escalator;
  private readonly acks: Acknowledgements;
  private readonly windowMs: number;
  private readonly inhibitor: Inhibitor;
  private readonly confirmTimeoutMs: number;
  private readonly disabled: boolean;
  private readonly disabledReason: string | undefined;
  private readonly shared: SharedSilences;
  private readonly groups: FleetGroups;
  private readonly history: HistoryWriter;
  private readonly onResult: ((event: AlertResultEvent) => void) | undefined;
  private readonly maintenance: MaintenanceLoop;
  private readonly reports: AlertReports;
  private readonly selfWatch: SelfWatch;
  private lastClaimVia: ClaimPath = 'store';
  private closed = false;

  /**
   * @param options - See {@link AlertServiceOptions}.
   * @throws TypeError for an invalid option (unknown sink in a route, duplicate sink name, bad duration).
   */
  constructor(options: AlertServiceOptions = {}) {
    const resolved = resolveAlertServiceOptions(options);
    this.logger = resolved.logger;
    this.clock = resolved.clock;
    this.store = resolved.store;
    this.durable = resolved.durableStore ?? this.store;
    this.windowMs = resolved.windowMs;
    this.confirmTimeoutMs = resolved.confirmTimeoutMs;
    this.onResult = resolved.onResult;
    this.disabled = resolved.disabled;
    this.disabledReason = resolved.disabledReason;

    const safeCall = createAlertSafeCall(resolved);
    // The store's health reports to the self-watch, built below (a store call can only
    // fail once the service is constructed).
    const late: { selfWatch?: SelfWatch; escalator?: Escalator } = {};
    const runtime = new AlertRuntime({ ...resolved, safeCall, onStoreChanged: (next, previous) => late.selfWatch?.storeChanged(next, previous) });
    this.runtime = runtime;
    this.gate = new ClaimGate({
      primary: this.store,
      durable: resolved.durableStore,
      call: (which, fn) => runtime.storeCall(which, fn),
      designatedSender: resolved.designatedSender,
      logger: this.logger,
      unknownAnswerMs: resolved.storeTimeoutMs,
    });
    this.history = createAlertHistory(runtime);
    runtime.recordSink = (entry) => this.record(entry);
    this.groups = new FleetGroups(runtime, {
      deliver: (members) => this.deliverAlerts(members),
      resultOf: (message, status, reason) => this.resultOf(message, status, { reason }),
      graceMs: 2000,
    });
    this.shared = new SharedSilences(
      this.durable,
      (fn) => runtime.durableCall(fn),
      this.logger,
      () => this.clock.now(),
    );
    this.acks = new Acknowledgements(runtime, {
      ttlMs: resolved.ackTtlMs,
      lookbackMs: resolved.staleAfterMs,
      flushHistory: () => this.history.idle(),
      stopEscalation: (type, key, now) => late.escalator!.stop(type, key, now),
    });
    const escalator = new Escalator(runtime, {
      escalateAfterMs: resolved.escalateAfterMs,
      staleAfterMs: resolved.staleAfterMs,
      policy: resolved.escalation,
      typePolicies: resolved.typeEscalation,
      acks: this.acks,
    });
    this.escalator = escalator;
    this.inhibitor = new Inhibitor(runtime, { rules: resolved.inhibit, acks: this.acks, windowOf: (type) => resolved.types[type]?.windowMs ?? this.windowMs });
    late.escalator = escalator;
    this.retries = new PendingRetries(runtime, {
      gate: this.gate,
      backoff: resolved.pending,
      expireAfterMs: resolved.pending.expireAfterMs,
      windowMs: this.windowMs,
      acknowledged: (type, key) => this.acks.has(type, key),
      onPageDelivered: async (page, _report, now) => {
        for (const member of page.message.members === undefined ? [page.message] : []) {
          await this.acks.remember(member, now);
          await escalator.start(member, Date.parse(member.occurredAt), now);
        }
      },
    });
    this.pending = this.retries.queue;
    this.failover = new SmsFailover(runtime, this.retries);
    const selfWatch = new SelfWatch(runtime, {
      raise: (input) => this.sendCriticalAlert(input),
      pendingSummary: () => this.pending.summary,
      pendingAlertAfterMs: resolved.pendingAlertAfterMs,
      closed: () => this.closed,
    });
    late.selfWatch = selfWatch;
    this.selfWatch = selfWatch;
    const round = new MaintenanceRound(runtime, {
      gate: this.gate,
      pending: this.retries,
      failover: this.failover,
      shared: this.shared,
      selfWatch,
      escalator,
      acks: this.acks,
      groups: this.groups,
      retryHistory: () => this.history.retryNow(),
      historyRetentionMs: resolved.historyRetentionMs,
      pruneEveryMs: defaults.pruneEveryMs,
    });
    this.maintenance = new MaintenanceLoop(() => round.run(), this.logger);
    this.reports = new AlertReports({
      durable: this.durable,
      durableCall: (fn) => runtime.durableCall(fn),
      flushHistory: () => this.history.idle(),
      now: () => this.clock.now(),
      acks: this.acks,
      pending: this.pending,
    });

    announceStartup(resolved);
    if (resolved.maintenanceIntervalMs !== false) this.maintenance.start(resolved.maintenanceIntervalMs);
  }

  /**
   * Raises an alert. Never throws: resolves with what happened. In order: the input is
   * checked (`invalid`), the kill switch (`disabled`), silences (`silenced`), inhibition by
   * an open HIGH alert on the same resource (`inhibited`), the dedup claim in the store
   * (`suppressed`), aggregation (when the type has a `groupWaitMs`), then delivery on the
   * severity's route with retries and fallbacks (`delivered` or `failed`). Every outcome is
   * appended to the store's history.
   *
   * @param input - The alert.
   * @returns What happened.
   * @example
   * ```ts
   * const result = await alerts.sendCriticalAlert({
   *   type: 'PAYMENT_WEBHOOK_FAILING', severity: 'HIGH', resourceId: 'client_42',
   *   title: 'Stripe webhooks failing', message: '5 signature failures in 10 minutes',
   * });
   * if (result.status === 'suppressed') console.log('already alerted for client_42');
   * ```
   */
  async sendCriticalAlert(input: AlertInput): Promise<AlertResult> {
    let message: AlertMessage | undefined;
    try {
      const problem = validateAlertInput(input);
      if (problem !== undefined) {
        this.logger.error({ type: typeof input?.type === 'string' ? input.type : undefined, problem }, `alert rejected: ${problem}`);
        const severity = severities.includes(input?.severity) ? input.severity : 'HIGH';
        return this.resultOf(undefined, 'invalid', { alertId: randomUUID(), type: String(input?.type), key: '*', severity, reason: problem });
      }
      const now = this.clock.now();
      const built = buildAlertMessage(input, now);
      message = built;
      return await alertTelemetry.raise(built, () => this.process(built, now));
    } catch (error) {
      // A bug of ours must not become the caller's problem, nor lose the alert.
      this.logger.error(
        { alert: message === undefined ? undefined : scrubbedAlert(message), err: describeError(error) },
        `ALERT LOST: alerting failed internally while handling ${message === undefined ? 'an alert' : headline(message)}`,
      );
      return this.resultOf(message, 'failed', { reason: `internal error: ${describeError(error)}` });
    }
  }

  /**
   * Resolves the open alert on (type, resource): the key is freed at once (the next
   * occurrence alerts again), a resolve notice goes to the sinks that had the alert
   * (PagerDuty resolves its incident under the same dedup key), and `resolved` is recorded.
   * With several instances exactly one sends the notice.
   *
   * @param input - Type, resource, and an optional notice text.
   * @returns `resolved`, or `not_active` when nothing was open. Never throws.
   * @example
   * ```ts
   * await alerts.resolveAlert({ type: 'OPENAI_FAILURE', message: 'Calls succeed again.' });
   * ```
   */
  async resolveAlert(input: ResolveInput): Promise<AlertResult> {
    const type = typeof input?.type === 'string' ? input.type : '';
    const key = alertKeyOf(input?.resourceId);
    try {
      const now = this.clock.now();
      this.groups.drop(type, key);
      const record = await this.runtime.storeCall('primary', () => this.store.resolve({ type, key, at: now }));
      if (record === undefined) {
        return this.resultOf(undefined, 'not_active', { alertId: '', type, key, severity: 'LOW', reason: 'no open alert on this key' });
      }
      const original = JSON.parse(record.payload) as AlertMessage;
      const notice = deriveMessage(original, {
        kind: 'resolve',
        message: input.message ?? 'The condition cleared.',
        occurredAt: new Date(now).toISOString(),
        severity: record.severity,
        members: undefined,
      });
      let report: DeliveryReport | undefined;
      if (record.deliveredAt !== undefined) {
        const route = record.sinks.filter((name) => this.runtime.known.has(name));
        report = await this.runtime.deliverer.deliver(notice, route.length > 0 ? route : [this.runtime.logSink.name], []);
      }
      const sinks = report?.delivered ?? [];
      // A page still owed to a sink that failed (the alert reached another) is moot now.
      if (record.deliveredAt !== undefined) await this.pending.cancel({ type, key, id: record.alertId }, now);
      await this.escalator.stop(type, key, now);
      await this.acks.clear(type, key, now);
      if (this.durable !== this.store) await this.runtime.durableCall(() => this.durable.resolve({ type, key, at: now })).catch(() => undefined);
      this.record({
        alertId: record.alertId,
        type,
        key,
        resourceId: record.resourceId,
        severity: record.severity,
        outcome: 'resolved',
        sinks,
        detail: undefined,
        at: now,
      });
      return this.resultOf(notice, 'resolved', { alertId: record.alertId, deliveredTo: sinks, failedSinks: report?.failed.map((f) => f.sink) ?? [] });
    } catch (error) {
      this.logger.error({ type, err: describeError(error) }, 'alerting: resolve failed');
      return this.resultOf(undefined, 'failed', { alertId: '', type, key, severity: 'LOW', reason: describeError(error) });
    }
  }

  /**
   * Silences matching alerts until `until` (default: one hour, at most 7 days). Silenced
   * alerts are recorded as `silenced` and listed nowhere else; the silence shows in
   * {@link AlertService.getAlertSystemStatus}. Silences belong to this instance.
   *
   * @param matcher - Which alerts (all when omitted).
   * @param options - `until`, `durationMs`, `reason`.
   * @returns A function that ends the silence early.
   * @throws TypeError for a bad matcher or duration.
   * @example
   * ```ts
   * const restore = alerts.silenceAlerts({ type: 'TWILIO_FAILURE' }, { durationMs: 30 * 60_000, reason: 'Twilio incident' });
   * // ...
   * restore();
   * ```
   */
  silenceAlerts(matcher?: SilenceMatcher, options: SilenceOptions = {}): RestoreSilence {
    const silence = this.shared.local.add(matcher, options, this.clock.now());
    const until = new Date(silence.until).toISOString();
    this.logger.warn(
      { silenceId: silence.id, matcher: silence.description, until, reason: silence.reason },
      `alerts silenced: ${silence.description} until ${until}`,
    );
    this.shared.share(silence.id);
    const restore = () => {
      if (this.shared.local.has(silence.id)) void this.expireSilence(silence.id);
    };
    return Object.assign(restore, { id: silence.id, until });
  }

  /**
   * Creates a silence shared by every instance on the store (same id everywhere; other
   * instances apply it within `maintenanceIntervalMs`). Resolves once it is stored.
   *
   * @param matcher - Which alerts (all when omitted).
   * @param options - `until`, `durationMs`, `reason`.
   * @returns The stored silence.
   * @throws TypeError for a bad matcher or duration; rejects when the store is unreachable
   * (the silence then still holds in this process).
   * @example
   * ```ts
   * const silence = await alerts.createSilence({ type: 'TWILIO_FAILURE' }, { durationMs: 30 * 60_000, reason: 'Twilio incident' });
   * await alerts.expireSilence(silence.id);
   * ```
   */
  async createSilence(matcher?: SilenceMatcher, options: SilenceOptions = {}): Promise<SilenceRecord> {
    const { id } = this.silenceAlerts(matcher, options);
    await this.shared.write(id);
    return this.shared.local.record(id)!;
  }

  /**
   * The active silences of the fleet (read from the store; this instance's own when the
   * store is unreachable).
   *
   * @returns Active silences.
   * @example
   * ```ts
   * for (const silence of await alerts.listSilences()) console.log(silence.id, silence.until);
   * ```
   */
  async listSilences(): Promise<SilenceRecord[]> {
    await this.shared.sync().catch(() => undefined);
    return this.shared.records();
  }

  /**
   * Ends a silence early, on every instance (they drop it within `maintenanceIntervalMs`).
   *
   * @param id - The silence's id.
   * @returns Whether it was active (here or in the store).
   * @example
   * ```ts
   * if (!(await alerts.expireSilence(id))) console.warn('no such silence');
   * ```
   */
  async expireSilence(id: string): Promise<boolean> {
    return this.shared.expire(id);
  }

  /**
   * Acknowledges an alert: its escalation stops on every instance (the acknowledgement is
   * stored in the durable store), `acknowledged` is recorded in the history, and it shows
   * in {@link AlertService.getAlertSystemStatus} until the alert is resolved or the
   * acknowledgement lapses (`ackTtlMs`). It does not resolve the alert.
   *
   * @param target - The alert's id, its short code (as in the SMS: `ACK 7KQ2M`), or its
   * type and resource.
   * @param options - `by` (who) and `via` (`api`, `sms`, `slack`; default `api`).
   * @returns `acknowledged`, `already_acknowledged` (with the first acknowledgement), or `not_found`.
   * @throws TypeError when `by` is missing; rejects when the store cannot be reached.
   * @example
   * ```ts
   * const outcome = await alerts.acknowledge(result.alertId, { by: 'alice', via: 'api' });
   * if (outcome.status !== 'not_found') console.log(`acknowledged by ${outcome.ack.by}`);
   * ```
   */
  async acknowledge(target: AckTarget, options: AcknowledgeOptions): Promise<AcknowledgeResult> {
    return acknowledgeAlert(this.acks, target, options);
  }

  /**
   * Handles an SMS reply from an operator: `ACK` acknowledges the newest open alert not yet
   * acknowledged, `ACK <code>` the alert whose SMS carried that code (SMS sinks created
   * with `ackHint: true` add "Reply ACK <code>"). Anything else is not for the alerting
   * (`handled: false`): the app routes it on. Call it from your inbound SMS webhook after
   * verifying Twilio's signature and that the sender is an on-call number; the number is
   * recorded masked.
   *
   * @param reply - `from` (the sender) and `body` (the SMS text).
   * @returns Whether it was an ACK, what was done, and a short text to reply with.
   * @example
   * ```ts
   * const ack = await alerts.handleSmsReply({ from: req.body.From, body: req.body.Body });
   * if (ack.handled) return res.type('text/xml').send(`<Response><Message>${ack.reply}</Message></Response>`);
   * ```
   */
  async handleSmsReply(reply: { readonly from: string; readonly body: string }): Promise<SmsAckOutcome> {
    return handleSmsAckReply(this.acks, this.logger, reply);
  }

  /**
   * The state of the alert system, for health endpoints and admin pages.
   *
   * @returns See {@link AlertSystemStatus}.
   * @example
   * ```ts
   * app.get('/admin/alerts/status', (req, res) => res.json(alerts.getAlertSystemStatus()));
   * ```
   */
  getAlertSystemStatus(): AlertSystemStatus {
    const now = this.clock.now();
    return buildAlertSystemStatus({
      runtime: this.runtime,
      now,
      disabled: this.disabled,
      disabledReason: this.disabledReason,
      closed: this.closed,
      pending: this.pending.summary,
      history: this.history.state,
      lastClaimVia: this.lastClaimVia,
      storeKind: this.store.kind,
      historyStoreKind: this.durable.kind,
      silences: this.shared.local.list(now),
      acknowledged: this.acks.list(),
    });
  }

  /**
   * Counts of the history over the last `hours`: by outcome, type and severity.
   *
   * @param options - `hours` (default 24, at most 90 days).
   * @returns See {@link AlertStats}.
   * @throws TypeError for a bad `hours`; rejects when the store is unreachable.
   * @example
   * ```ts
   * app.get('/admin/alerts/stats', async (req, res) => res.json(await alerts.getAlertStats({ hours: 24 })));
   * ```
   */
  async getAlertStats(options: { readonly hours?: number } = {}): Promise<AlertStats> {
    const hours = options.hours ?? 24;
    if (typeof hours !== 'number' || !Number.isFinite(hours) || hours <= 0 || hours > 24 * 90) {
      throw new TypeError(`Expected \`hours\` to be a number from 0 to 2160, got ${String(hours)}.`);
    }
    await this.history.idle();
    const until = this.clock.now();
    const since = until - hours * hour;
    const rows = await this.durable.countOutcomes({ since });
    return buildStats(rows, since, until, hours);
  }

  /**
   * Alerts waiting for a person: pages no sink took yet, then delivered alerts nobody
   * acknowledged or resolved (fleet-wide, from the durable store). See {@link AlertReports}.
   *
   * @returns Newest first; rejects when the durable store cannot be read.
   * @example
   * ```ts
   * for (const open of await alerts.listOpenAlerts()) await alerts.acknowledge(open.code, { by: 'alice' });
   * ```
   */
  listOpenAlerts(): Promise<OpenAlert[]> {
    return this.reports.listOpenAlerts();
  }

  /**
   * Recent alerts from the history with the outcome at each sink (delivered, failed,
   * confirmed by a receipt). See {@link RecentAlertsOptions}.
   *
   * @param options - `limit` (default 20), `hours` (default 24), `includeSuppressed` (default false).
   * @returns Newest first; rejects when the durable store cannot be read.
   * @throws TypeError for a bad `limit` or `hours`.
   * @example
   * ```ts
   * app.get('/admin/alerts/recent', async (req, res) => res.json(await alerts.recentAlerts({ hours: 24, limit: 50 })));
   * ```
   */
  recentAlerts(options?: RecentAlertsOptions): Promise<RecentAlert[]> {
    return this.reports.recentAlerts(options);
  }

  /**
   * Applies a delivery receipt (from Twilio's status callback): `delivered`/`read` confirm
   * the alert; `failed`/`undelivered`/`canceled` count as a failed delivery, and the alert
   * falls back to the next sink (once per alert, whichever instance gets the callback).
   * Other statuses (`queued`, `sent`, ...) are ignored.
   *
   * @param update - The receipt.
   * @returns What was done. Never throws for an unknown id (`unknown`).
   * @example
   * ```ts
   * await alerts.handleDeliveryStatus({ deliveryId: body.MessageSid, status: body.MessageStatus, errorCode: body.ErrorCode });
   * ```
   */
  async handleDeliveryStatus(update: DeliveryStatusUpdate): Promise<DeliveryStatusOutcome> {
    const status = String(update?.status ?? '').toLowerCase();
    const now = this.clock.now();
    if (status === 'delivered' || status === 'read') {
      const delivery = await this.runtime.durableCall(() => this.durable.settleDelivery({ deliveryId: update.deliveryId, status: 'delivered', at: now }));
      if (delivery === undefined) return 'unknown';
      const payload = JSON.parse(delivery.payload) as DeliveryPayload;
      for (const member of payload.members) {
        this.record({ ...member, outcome: 'confirmed', sinks: [delivery.sink], detail: `${delivery.sink} ${delivery.deliveryId} delivered`, at: now });
      }
      return 'confirmed';
    }
    if (status === 'failed' || status === 'undelivered' || status === 'canceled') {
      const delivery = await this.runtime.durableCall(() => this.durable.settleDelivery({ deliveryId: update.deliveryId, status: 'failed', at: now }));
      if (delivery === undefined) return 'unknown';
      const error = new DeliveryUnconfirmedError(delivery.sink, delivery.deliveryId, status, update.errorCode);
      await this.failover.failOver(delivery, error, update.to);
      return 'fell_back';
    }
    return 'ignored';
  }

  /**
   * Escalates MEDIUM alerts unresolved for `escalateAfterMs` (default 12 h) to HIGH, falls
   * back for SMS without a receipt after `confirmTimeoutMs`, and prunes old history (hourly).
   * Runs on its own every `maintenanceIntervalMs`; safe to call from every instance.
   *
   * @returns Counts of what it did.
   * @example
   * ```ts
   * monitor.register('alert-maintenance', () => alerts.runMaintenance());
   * ```
   */
  runMaintenance(): Promise<MaintenanceReport> {
    // Never two at once in one instance: a slow round is joined, not doubled.
    return this.maintenance.run();
  }

  /**
   * Sends every aggregation group now instead of at the end of its wait.
   *
   * @example
   * ```ts
   * await alerts.flushGroups();
   * ```
   */
  async flushGroups(): Promise<void> {
    await this.groups.flushAll();
  }

  /**
   * Stops the maintenance timer, sends pending aggregation groups and writes queued
   * history rows. Alerts raised later
   * are still delivered (without aggregation); the status reports the service as closed.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', async () => { await alerts.close(); process.exit(0); });
   * ```
   */
  async close(): Promise<void> {
    this.closed = true;
    this.selfWatch.close();
    this.maintenance.stop();
    await this.flushGroups();
    await this.maintenance.idle();
    await this.history.retryNow();
    this.history.stop();
    if (this.history.queued > 0) {
      this.logger.error(
        { rows: this.history.queued, store: this.durable.kind },
        `alerting: closed with ${this.history.queued} history rows unwritten (store unavailable); they are lost with this process`,
      );
    }
  }

  private async process(message: AlertMessage, now: number): Promise<AlertResult> {
    const history = (outcome: AlertOutcome, detail?: string, alertId = message.id): void =>
      this.record({
        alertId,
        type: message.type,
        key: message.key,
        resourceId: message.resourceId,
        severity: message.severity,
        outcome,
        sinks: [],
        detail,
        at: now,
      });

    if (this.disabled) {
      this.logger.warn({ alert: scrubbedAlert(message), reason: this.disabledReason }, `ALERTS DISABLED: not sent: ${headline(message)}`);
      history('disabled', this.disabledReason);
      return this.resultOf(message, 'disabled', { reason: this.disabledReason });
    }
    const silence = this.shared.local.match(message, now);
    if (silence !== undefined) {
      const detail = `silence ${silence.id} (${silence.description}) until ${new Date(silence.until).toISOString()}`;
      this.logger.info({ type: message.type, key: message.key, silenceId: silence.id }, `alert silenced: ${headline(message)}`);
      history('silenced', detail);
      return this.resultOf(message, 'silenced', { reason: detail });
    }
    const inhibited = await this.inhibitor.check(message, now);
    if (inhibited !== undefined) {
      history('inhibited', inhibited);
      return this.resultOf(message, 'inhibited', { reason: inhibited });
    }
    const typeOptions = this.runtime.types[message.type];
    const windowMs = typeOptions?.windowMs ?? this.windowMs;
    const claim = await this.gate.claim(message, now, windowMs);
    this.lastClaimVia = claim.via;
    if (claim.via === 'deferred') {
      // Every store is down and another instance is the designated sender: keep the alert
      // here and claim again when a store answers (it may then be a duplicate: fine).
      // Or the store left the claim unanswered: it may have made another alert the winner.
      const why = claim.reason ?? 'every alert store is unavailable and this instance is not the designated sender';
      const page = { ...this.retries.newPage(message, [message], [], now, why), deferred: true };
      await this.pending.enqueue(page, now);
      history('failed', `deferred: ${why}; retried until ${new Date(page.expiresAt).toISOString()}`);
      return this.resultOf(message, 'failed', { reason: `${why}: queued here`, pendingUntil: new Date(page.expiresAt).toISOString(), claimedVia: 'deferred' });
    }
    if (!claim.claimed) {
      const detail = `duplicate of ${claim.alertId} until ${new Date(claim.expiresAt).toISOString()}`;
      history('suppressed', detail, message.id);
      return this.resultOf(message, 'suppressed', { alertId: claim.alertId, reason: detail, claimedVia: claim.via });
    }
    const effective = claim.severity === message.severity ? message : Object.freeze({ ...message, severity: claim.severity });
    if (typeOptions?.groupWaitMs !== undefined && !this.closed) {
      return this.groups.add({ message: effective, claim }, typeOptions.groupWaitMs);
    }
    const [result] = await this.deliverAlerts([{ message: effective, claim }]);
    return result!;
  }

  /** Delivers one alert, or several as one aggregated message, and records the outcome of each. */
  private async deliverAlerts(members: ReadonlyArray<{ message: AlertMessage; claim: GateClaim }>): Promise<AlertResult[]> {
    const now = this.clock.now();
    const first = members[0]!.message;
    const typeOptions = this.runtime.types[first.type];
    const outgoing =
      members.length === 1
        ? first
        : buildGroupMessage(
            members.map((m) => m.message),
            (typeOptions?.groupTitle ?? defaultGroupTitle)(members.map((m) => m.message)),
            now,
          );
    const route = this.runtime.routeOf(outgoing.severity, outgoing.type);
    const inStore = members.every((m) => m.claim.via === 'store' || m.claim.via === 'durable');
    // A newer occurrence supersedes an older page of the same alert still pending.
    if (members.length === 1 && inStore) await this.pending.cancel(first, now);
    // Indexed for acknowledgement while the sinks are called, not after: an operator who
    // answers the SMS while a slower sink (or the SMS receipt) is still awaited finds the
    // alert. `remember` never rejects; a failed delivery stays open too (as in the history).
    const indexed = Promise.all(members.map(({ message }) => this.acks.remember(message, now)));
    const report = await this.runtime.deliverer.deliver(outgoing, route, this.runtime.fallbackOrder);
    await indexed;
    this.runtime.noteReport(report, now);

    const awaiting: string[] = [];
    if (report.ok) {
      for (const [sink, receipt] of report.receipts) {
        for (const deliveryId of receipt.awaitingConfirmation ?? []) {
          awaiting.push(deliveryId);
          const payload: DeliveryPayload = {
            message: outgoing,
            deliveredTo: report.delivered,
            members: members.map(({ message }) => ({
              alertId: message.id,
              type: message.type,
              key: message.key,
              severity: message.severity,
              resourceId: message.resourceId,
            })),
          };
          const tracked: TrackedDelivery = {
            deliveryId,
            alertId: outgoing.id,
            type: outgoing.type,
            key: outgoing.key,
            sink,
            status: 'pending',
            payload: JSON.stringify(payload),
            sentAt: now,
            deadlineAt: now + this.confirmTimeoutMs,
          };
          await this.runtime
            .durableCall(() => this.durable.trackDelivery(tracked))
            .catch((error) =>
              this.logger.warn({ deliveryId, err: describeError(error) }, 'alerting: could not track the SMS receipt (no fallback if it is not delivered)'),
            );
        }
      }
    }
    const failedSinks = report.failed.map((f) => f.sink);
    let page: PendingPage | undefined;
    if (!report.ok) {
      const reason = report.failed.map((f) => `${f.sink}: ${f.reason}`).join('; ') || 'no sink took it';
      page = this.retries.newPage(
        outgoing,
        members.map((m) => m.message),
        report.delivered.filter((name) => name !== this.runtime.logSink.name),
        now,
        reason,
      );
      page = { ...page, route };
      await this.pending.enqueue(page, now);
    } else if (report.owed.length > 0) {
      // Another sink took it, but a route sink failed with no fallback in its place (its
      // breaker open, say): the alert is still owed to that sink, and retried there alone.
      const sent = this.retries.newPage(
        outgoing,
        members.map((m) => m.message),
        [],
        now,
        '',
      );
      await this.pending.enqueue(this.retries.owedPage(sent, report, now), now);
    }
    const results: AlertResult[] = [];
    for (const { message, claim } of members) {
      const base = { alertId: message.id, type: message.type, key: message.key, resourceId: message.resourceId, severity: message.severity, at: now };
      if (report.ok) {
        await this.runtime.markDelivered(message, now, report.delivered);
        await this.escalator.start(message, claim.firstSeenAt, now);
        const detail = [
          report.fellBack ? `fell back after ${failedSinks.join(', ')} failed` : undefined,
          members.length > 1 ? `aggregated with ${members.length - 1} more` : undefined,
        ]
          .filter(Boolean)
          .join('; ');
        this.record({ ...base, outcome: 'delivered', sinks: report.delivered, detail: detail === '' ? undefined : detail });
      } else {
        // Free the key of a single alert: its next occurrence is a fresh attempt, not a
        // duplicate (and it supersedes the pending page). A group keeps its members' keys
        // while its page is pending.
        if (page!.released) await this.runtime.releaseKey(message, now);
        this.record({
          ...base,
          outcome: 'failed',
          sinks: failedSinks,
          detail: `${report.failed.map((f) => `${f.sink}: ${f.reason}`).join('; ')}; pending until ${new Date(page!.expiresAt).toISOString()}`,
        });
      }
      results.push(
        this.resultOf(message, report.ok ? 'delivered' : 'failed', {
          deliveredTo: report.delivered,
          failedSinks,
          fellBack: report.fellBack,
          claimedVia: claim.via,
          ...(members.length > 1 ? { groupSize: members.length } : {}),
          ...(awaiting.length > 0 ? { awaitingConfirmation: awaiting } : {}),
          ...(report.ok
            ? {}
            : {
                reason: 'every remote sink failed; the alert waits in the pending-page queue and is retried',
                pendingUntil: new Date(page!.expiresAt).toISOString(),
              }),
        }),
      );
    }
    return results;
  }

  /**
   * Queues a history row (write-behind, batched): never awaited by the caller, so the
   * winner of a burst does not wait behind its duplicates' rows. A store failure is logged.
   */
  private record(entry: AlertHistoryEntry): void {
    alertTelemetry.lifecycle(entry);
    this.history.add({ ...entry, detail: entry.detail === undefined ? undefined : scrubText(entry.detail) });
  }

  private resultOf(
    message: AlertMessage | undefined,
    status: AlertStatus,
    fields: { readonly [K in Exclude<keyof AlertResult, 'status'>]?: AlertResult[K] | undefined },
  ): AlertResult {
    const result: AlertResult = Object.freeze({
      status,
      alertId: fields.alertId ?? message?.id ?? '',
      type: fields.type ?? message?.type ?? '',
      key: fields.key ?? message?.key ?? '*',
      severity: fields.severity ?? message?.severity ?? 'HIGH',
      deliveredTo: Object.freeze([...(fields.deliveredTo ?? [])]),
      failedSinks: Object.freeze([...(fields.failedSinks ?? [])]),
      fellBack: fields.fellBack ?? false,
      ...(fields.reason !== undefined ? { reason: fields.reason } : {}),
      ...(fields.groupSize !== undefined ? { groupSize: fields.groupSize } : {}),
      ...(fields.awaitingConfirmation !== undefined ? { awaitingConfirmation: Object.freeze([...fields.awaitingConfirmation]) } : {}),
      ...(fields.pendingUntil !== undefined ? { pendingUntil: fields.pendingUntil } : {}),
      ...(fields.claimedVia !== undefined ? { claimedVia: fields.claimedVia } : {}),
    });
    if (this.onResult !== undefined && message !== undefined) {
      try {
        this.onResult({ result, message });
      } catch (error) {
        this.logger.error({ err: describeError(error) }, 'alerting onResult hook threw; ignored');
      }
    }
    return result;
  }
}

/**
 * Creates an {@link AlertService}.
 *
 * @param options - See {@link AlertServiceOptions}.
 * @returns The service.
 * @throws TypeError for an invalid option.
 * @example
 * ```ts
 * import twilio from 'twilio';
 * import { createAlertService, createTwilioSmsSink } from '@hardening/alerting';
 * const alerts = createAlertService({
 *   sinks: [createTwilioSmsSink({ client: twilio(sid, token), from: '+15557654321', to: process.env.ALERT_SMS_TO! })],
 * });
 * await alerts.sendCriticalAlert({ type: 'TEST_ALERT', severity: 'HIGH', title: 'Test alert', message: 'If you read this, SMS alerts work.' });
 * ```
 */
export function createAlertService(options: AlertServiceOptions = {}): AlertService {
  return new AlertService(options);
}
