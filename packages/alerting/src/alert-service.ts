import { randomUUID } from 'node:crypto';
import type { CircuitState, Logger, SafeCall } from '@hardening/core';
import { BreakerRegistry, createSafeCall, maskPhoneNumber } from '@hardening/core';
import type { AlertInput, AlertMessage, AlertResult, AlertStatus, Severity } from './alert.js';
import { severities } from './alert.js';
import { alertKeyOf, buildAlertMessage, buildGroupMessage, defaultGroupTitle, deriveMessage, validateAlertInput } from './alert-message.js';
import { Aggregator } from './aggregator.js';
import { disabledBanner } from './banner.js';
import type { Clock } from './clock.js';
import type { DeliveryReport } from './delivery.js';
import { Deliverer, describeError, sinkOperation } from './delivery.js';
import { DeliveryUnconfirmedError } from './errors/delivery-unconfirmed-error.js';
import { headline, scrubbedAlert, scrubText } from './format.js';
import { HistoryWriter } from './history-writer.js';
import { MaintenanceLoop } from './maintenance-loop.js';
import type { ClaimPath, GateClaim } from './claims/claim-gate.js';
import { ClaimGate } from './claims/claim-gate.js';
import type { StoreState } from './claims/store-health.js';
import { StoreHealth, isStoreDownError } from './claims/store-health.js';
import type { PageMember, PendingPage } from './pending-pages.js';
import { PendingPages, pendingSink } from './pending-pages.js';
import type { RouteTable } from './routing.js';
import { routeFor } from './routing.js';
import type { SilenceMatcher, SilenceOptions, SilenceRecord } from './silences.js';
import { SharedSilences, silenceSink } from './shared-silences.js';
import type { AlertSink } from './sinks/sink.js';
import type {
  AlertTypeOptions,
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
import type { AlertHistoryEntry, AlertOutcome, AlertStore, ClaimResult, TrackedDelivery } from './store/alert-store.js';
import { defaults, resolveAlertServiceOptions, retryableSinkError } from './resolve-alert-service-options.js';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

interface DeliveryPayload {
  readonly message: AlertMessage;
  readonly deliveredTo: readonly string[];
  readonly members: readonly PageMember[];
}

/** Types of the alerts the service raises about itself. */
const selfAlert = { storeDown: 'ALERTING_STORE_UNAVAILABLE', sinkFailing: 'ALERTING_SINK_FAILING', pagesPending: 'ALERTING_PAGES_PENDING' } as const;

/** The internal type under which an unconfirmed SMS claims its (one) fallback per alert. */
const fallbackClaimType = 'alerting.sms-fallback';


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
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly store: AlertStore;
  /** The durable store (history, pending pages, receipts, fallback claims): `durableStore`, else `store`. */
  private readonly durable: AlertStore;
  private readonly primaryHealth: StoreHealth;
  private readonly durableHealth: StoreHealth | undefined;
  private readonly gate: ClaimGate;
  private readonly pending: PendingPages;
  private readonly pendingExpireAfterMs: number;
  private readonly pendingAlertAfterMs: number | false;
  /** Sinks whose open breaker was already raised (until it closes again). */
  private readonly raisedSinks = new Set<string>();
  private readonly sinks: Map<string, AlertSink>;
  private readonly logSink: AlertSink;
  private readonly known: Set<string>;
  private readonly routes: RouteTable;
  private readonly types: Readonly<Record<string, AlertTypeOptions>>;
  private readonly fallbackOrder: readonly string[];
  private readonly firstRemote: string | undefined;
  private readonly windowMs: number;
  private readonly escalateAfterMs: number | false;
  private readonly staleAfterMs: number;
  private readonly inhibit: boolean;
  private readonly confirmTimeoutMs: number;
  private readonly historyRetentionMs: number;
  private readonly disabled: boolean;
  private readonly disabledReason: string | undefined;
  private readonly safeCall: SafeCall;
  private readonly deliverer: Deliverer;
  private readonly shared: SharedSilences;
  private readonly groups: Aggregator;
  private readonly history: HistoryWriter;
  private readonly onResult: ((event: AlertResultEvent) => void) | undefined;
  private readonly maintenance: MaintenanceLoop;
  private lastPruneAt = 0;
  private lastDeliveryAt: number | undefined;
  private lastFailure: { at: number; sink: string; reason: string } | undefined;
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
    this.sinks = resolved.sinks;
    this.logSink = resolved.logSink;
    this.known = resolved.known;
    this.routes = resolved.routes;
    this.types = resolved.types;
    this.firstRemote = resolved.remote[0];
    this.fallbackOrder = resolved.fallbackOrder;
    this.windowMs = resolved.windowMs;
    this.escalateAfterMs = resolved.escalateAfterMs;
    this.staleAfterMs = resolved.staleAfterMs;
    this.inhibit = resolved.inhibit;
    this.confirmTimeoutMs = resolved.confirmTimeoutMs;
    this.historyRetentionMs = resolved.historyRetentionMs;
    const durableStore = resolved.durableStore;
    this.durable = durableStore ?? this.store;
    this.pendingExpireAfterMs = resolved.pending.expireAfterMs;
    this.pendingAlertAfterMs = resolved.pendingAlertAfterMs;
    this.onResult = resolved.onResult;
    this.disabled = resolved.disabled;
    this.disabledReason = resolved.disabledReason;

    const { retry } = resolved;
    this.safeCall = createSafeCall({
      registry: resolved.registry ?? new BreakerRegistry(),
      logger: this.logger,
      defaults: {
        attempts: retry.attempts,
        timeoutMs: retry.timeoutMs,
        backoff: { initialDelayMs: retry.initialDelayMs, factor: retry.factor, maxDelayMs: retry.maxDelayMs, jitter: 'none' },
        retryable: retryableSinkError,
        breaker: resolved.breaker,
        // Alerts are rare; the per-sink breaker already stops retries against a dead provider.
        retryBudget: false,
        slowCallThresholdMs: 15_000,
      },
    });
    // A slow store is waited for (up to storeTimeoutMs); only a store known down (refused,
    // reset, closed) is retried once, and five failures open the breaker: then claims fall
    // back at once instead of waiting.
    for (const operation of ['alert_store', 'alert_store_durable']) {
      this.safeCall.configure(operation, {
        attempts: 2,
        timeoutMs: resolved.storeTimeoutMs,
        backoff: { initialDelayMs: 50, factor: 2, maxDelayMs: 1000, jitter: 'none' },
        retryable: isStoreDownError,
        breaker: { failureThreshold: 5, cooldownMs: 10_000 },
      });
    }
    const started = this.clock.now();
    const { storeSlowMs } = resolved;
    this.primaryHealth = new StoreHealth(this.store.kind, storeSlowMs, (next, previous) => this.storeChanged(next, previous), started);
    this.durableHealth = durableStore === undefined ? undefined : new StoreHealth(`${durableStore.kind} (durable)`, storeSlowMs, (next, previous) => this.storeChanged(next, previous), started);
    this.gate = new ClaimGate({
      primary: this.store,
      durable: durableStore,
      call: (which, fn) => this.storeCall(which, fn),
      designatedSender: resolved.designatedSender,
      logger: this.logger,
      unknownAnswerMs: resolved.storeTimeoutMs,
    });
    this.deliverer = new Deliverer(this.sinks, this.logSink, this.safeCall, this.logger);
    this.history = new HistoryWriter({
      write: async (entries) => {
        const store = this.durable;
        await this.durableCall(() => (store.appendMany !== undefined ? store.appendMany(entries) : Promise.all(entries.map((e) => store.append(e))).then(() => undefined)));
      },
      onDrop: (dropped) =>
        this.logger.warn({ dropped, store: this.durable.kind }, `alerting: history queue full; the oldest rows are dropped (${dropped} so far; alerts themselves are unaffected)`),
      onError: (queued, error, retryInMs) =>
        this.logger.warn(
          { queued, store: this.durable.kind, retryInMs, err: describeError(error) },
          `alerting: history store unavailable; ${queued} rows kept in memory and written when it answers`,
        ),
      onRecovered: (written) => this.logger.info({ written, store: this.durable.kind }, 'alerting: history store answers again; queued rows written'),
      describe: (error) => scrubText(describeError(error)),
      now: () => this.clock.now(),
    });
    this.maintenance = new MaintenanceLoop(() => this.maintain(), this.logger);
    this.groups = new Aggregator({
      deliver: (members) => this.deliverAlerts(members),
      resultOf: (message, status, reason) => this.resultOf(message, status, { reason }),
      logger: this.logger,
    });
    this.shared = new SharedSilences(this.durable, (fn) => this.durableCall(fn), this.logger, () => this.clock.now());
    this.pending = new PendingPages({
      store: this.durable,
      call: (fn) => this.durableCall(fn),
      logger: this.logger,
      backoff: resolved.pending,
      reclaim: (page, now) => this.reclaimPage(page, now),
      deliver: (page) => this.deliverPage(page),
      onDelivered: (page, report, now) => this.pageDelivered(page, report, now),
      onFailed: (page, now, expired, reason) => this.pageFailed(page, now, expired, reason),
    });

    if (this.disabled) {
      const write = resolved.banner ?? ((text: string) => void process.stderr.write(`${text}\n`));
      try {
        write(disabledBanner(this.disabledReason!));
      } catch {
        // the banner is best effort; the log line below still says it
      }
      this.logger.error({ alertsDisabled: true, reason: this.disabledReason }, 'ALERTS DISABLED: no alert will reach a person until this is switched back on');
    }
    for (const sink of this.sinks.values()) {
      for (const warning of sink.checkConfiguration?.() ?? []) this.logger.warn({ sink: sink.name }, warning);
    }
    if (resolved.remote.length === 0 && !this.disabled) {
      this.logger.warn({ sinks: [...this.known] }, 'alerting: no remote sink configured; alerts only reach the logs');
    }
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
      message = buildAlertMessage(input, now);
      return await this.process(message, now);
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
      const record = await this.storeCall('primary', () => this.store.resolve({ type, key, at: now }));
      if (record === undefined) {
        return this.resultOf(undefined, 'not_active', { alertId: '', type, key, severity: 'LOW', reason: 'no open alert on this key' });
      }
      const original = JSON.parse(record.payload) as AlertMessage;
      const notice = deriveMessage(original, { kind: 'resolve', message: input.message ?? 'The condition cleared.', occurredAt: new Date(now).toISOString(), severity: record.severity, members: undefined });
      let report: DeliveryReport | undefined;
      if (record.deliveredAt !== undefined) {
        const route = record.sinks.filter((name) => this.known.has(name));
        report = await this.deliverer.deliver(notice, route.length > 0 ? route : [this.logSink.name], []);
      }
      const sinks = report?.delivered ?? [];
      if (this.durable !== this.store) await this.durableCall(() => this.durable.resolve({ type, key, at: now })).catch(() => undefined);
      this.record({ alertId: record.alertId, type, key, resourceId: record.resourceId, severity: record.severity, outcome: 'resolved', sinks, detail: undefined, at: now });
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
    this.logger.warn({ silenceId: silence.id, matcher: silence.description, until, reason: silence.reason }, `alerts silenced: ${silence.description} until ${until}`);
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
    const remote = [...this.sinks.values()].filter((s) => s.remote !== false);
    let reason: string | undefined;
    if (this.disabled) reason = this.disabledReason;
    else if (this.closed) reason = 'alert service closed';
    else if (remote.length === 0) reason = 'no remote sink configured: alerts only reach the logs';
    const breakers: Record<string, CircuitState> = {};
    for (const sink of remote) breakers[sink.name] = this.safeCall.registry.find(sinkOperation(sink.name))?.state ?? 'closed';
    const routes = {} as Record<Severity, readonly string[]>;
    for (const severity of severities) routes[severity] = routeFor(severity, undefined, this.routes, this.known, this.firstRemote, this.logSink.name);
    const stores = [this.primaryHealth.state, ...(this.durableHealth !== undefined ? [this.durableHealth.state] : [])];
    const problems: string[] = [];
    for (const store of stores) if (store.state !== 'up') problems.push(`alert store ${store.store} ${store.state}${store.reason !== undefined ? `: ${store.reason}` : ''}`);
    for (const [name, state] of Object.entries(breakers)) if (state !== 'closed') problems.push(`sink ${name}: breaker ${state}`);
    const pending = this.pending.summary;
    if (pending.count > 0) problems.push(`${pending.count} page(s) pending since ${new Date(pending.oldestAt ?? now).toISOString()}`);
    const history = this.history.state;
    if (history.failingSince !== undefined) problems.push(`${history.queued} history row(s) kept in memory since ${history.failingSince}: ${history.lastError ?? 'store unavailable'}`);
    if (this.lastClaimVia !== 'store' && this.lastClaimVia !== 'durable') problems.push(`last dedup claim decided by the ${this.lastClaimVia} rule (every store unavailable)`);
    return {
      enabled: reason === undefined,
      ...(reason !== undefined ? { reason } : {}),
      healthy: reason === undefined && problems.length === 0,
      problems,
      sinks: [...this.known],
      routes,
      store: this.store.kind,
      storeHealthy: this.primaryHealth.state.state !== 'down',
      stores,
      historyStore: this.durable.kind,
      history,
      claimedVia: this.lastClaimVia,
      pending: { count: pending.count, ...(pending.oldestAt !== undefined ? { oldestAt: new Date(pending.oldestAt).toISOString() } : {}) },
      ...(this.lastDeliveryAt !== undefined ? { lastDeliveryAt: new Date(this.lastDeliveryAt).toISOString() } : {}),
      ...(this.lastFailure !== undefined
        ? { lastFailureAt: new Date(this.lastFailure.at).toISOString(), lastFailure: { sink: this.lastFailure.sink, reason: this.lastFailure.reason } }
        : {}),
      silences: this.shared.local.list(now),
      breakers,
    };
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
      const delivery = await this.durableCall(() => this.durable.settleDelivery({ deliveryId: update.deliveryId, status: 'delivered', at: now }));
      if (delivery === undefined) return 'unknown';
      const payload = JSON.parse(delivery.payload) as DeliveryPayload;
      for (const member of payload.members) {
        this.record({ ...member, outcome: 'confirmed', sinks: [delivery.sink], detail: `${delivery.sink} ${delivery.deliveryId} delivered`, at: now });
      }
      return 'confirmed';
    }
    if (status === 'failed' || status === 'undelivered' || status === 'canceled') {
      const delivery = await this.durableCall(() => this.durable.settleDelivery({ deliveryId: update.deliveryId, status: 'failed', at: now }));
      if (delivery === undefined) return 'unknown';
      const error = new DeliveryUnconfirmedError(delivery.sink, delivery.deliveryId, status, update.errorCode);
      await this.failOver(delivery, error, update.to);
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
    this.maintenance.stop();
    await this.flushGroups();
    await this.maintenance.idle();
    await this.history.retryNow();
    this.history.stop();
    if (this.history.queued > 0) {
      this.logger.error({ rows: this.history.queued, store: this.durable.kind }, `alerting: closed with ${this.history.queued} history rows unwritten (store unavailable); they are lost with this process`);
    }
  }

  private async process(message: AlertMessage, now: number): Promise<AlertResult> {
    const history = (outcome: AlertOutcome, detail?: string, alertId = message.id): void =>
      this.record({ alertId, type: message.type, key: message.key, resourceId: message.resourceId, severity: message.severity, outcome, sinks: [], detail, at: now });

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
    if (this.inhibit && message.severity !== 'HIGH' && message.resourceId !== undefined) {
      const inhibited = await this.storeCall('primary', () =>
        this.store.hasOpenHigh({ resourceId: message.resourceId!, exceptType: message.type, exceptKey: message.key, at: now }),
      ).catch(() => false);
      if (inhibited) {
        const detail = 'a HIGH alert is open on the same resource';
        history('inhibited', detail);
        return this.resultOf(message, 'inhibited', { reason: detail });
      }
    }
    const typeOptions = this.types[message.type];
    const windowMs = typeOptions?.windowMs ?? this.windowMs;
    const claim = await this.gate.claim(message, now, windowMs);
    this.lastClaimVia = claim.via;
    if (claim.via === 'deferred') {
      // Every store is down and another instance is the designated sender: keep the alert
      // here and claim again when a store answers (it may then be a duplicate: fine).
      // Or the store left the claim unanswered: it may have made another alert the winner.
      const why = claim.reason ?? 'every alert store is unavailable and this instance is not the designated sender';
      const page = { ...this.newPage(message, [message], [], now, why), deferred: true };
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
    const typeOptions = this.types[first.type];
    const outgoing =
      members.length === 1 ? first : buildGroupMessage(members.map((m) => m.message), (typeOptions?.groupTitle ?? defaultGroupTitle)(members.map((m) => m.message)), now);
    const route = routeFor(outgoing.severity, typeOptions?.routes, this.routes, this.known, this.firstRemote, this.logSink.name);
    const inStore = members.every((m) => m.claim.via === 'store' || m.claim.via === 'durable');
    // A newer occurrence supersedes an older page of the same alert still pending.
    if (members.length === 1 && inStore) await this.pending.cancel(first, now);
    const report = await this.deliverer.deliver(outgoing, route, this.fallbackOrder);
    this.noteReport(report, now);

    const awaiting: string[] = [];
    if (report.ok) {
      for (const [sink, receipt] of report.receipts) {
        for (const deliveryId of receipt.awaitingConfirmation ?? []) {
          awaiting.push(deliveryId);
          const payload: DeliveryPayload = {
            message: outgoing,
            deliveredTo: report.delivered,
            members: members.map(({ message }) => ({ alertId: message.id, type: message.type, key: message.key, severity: message.severity, resourceId: message.resourceId })),
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
          await this.durableCall(() => this.durable.trackDelivery(tracked)).catch((error) =>
            this.logger.warn({ deliveryId, err: describeError(error) }, 'alerting: could not track the SMS receipt (no fallback if it is not delivered)'),
          );
        }
      }
    }
    const failedSinks = report.failed.map((f) => f.sink);
    let page: PendingPage | undefined;
    if (!report.ok) {
      const reason = report.failed.map((f) => `${f.sink}: ${f.reason}`).join('; ') || 'no sink took it';
      page = this.newPage(outgoing, members.map((m) => m.message), report.delivered.filter((name) => name !== this.logSink.name), now, reason);
      page = { ...page, route };
      await this.pending.enqueue(page, now);
    }
    const results: AlertResult[] = [];
    for (const { message, claim } of members) {
      const base = { alertId: message.id, type: message.type, key: message.key, resourceId: message.resourceId, severity: message.severity, at: now };
      if (report.ok) {
        await this.markDelivered(message, now, report.delivered);
        const detail = [report.fellBack ? `fell back after ${failedSinks.join(', ')} failed` : undefined, members.length > 1 ? `aggregated with ${members.length - 1} more` : undefined]
          .filter(Boolean)
          .join('; ');
        this.record({ ...base, outcome: 'delivered', sinks: report.delivered, detail: detail === '' ? undefined : detail });
      } else {
        // Free the key of a single alert: its next occurrence is a fresh attempt, not a
        // duplicate (and it supersedes the pending page). A group keeps its members' keys
        // while its page is pending.
        if (page!.released) await this.releaseKey(message, now);
        this.record({ ...base, outcome: 'failed', sinks: failedSinks, detail: `${report.failed.map((f) => `${f.sink}: ${f.reason}`).join('; ')}; pending until ${new Date(page!.expiresAt).toISOString()}` });
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
            : { reason: 'every remote sink failed; the alert waits in the pending-page queue and is retried', pendingUntil: new Date(page!.expiresAt).toISOString() }),
        }),
      );
    }
    return results;
  }

  /** A new pending page for `outgoing` (standing for `members`). */
  private newPage(outgoing: AlertMessage, members: readonly AlertMessage[], reached: readonly string[], now: number, reason: string): PendingPage {
    const typeOptions = this.types[outgoing.type];
    return {
      message: outgoing,
      members: members.map((m) => ({ alertId: m.id, type: m.type, key: m.key, severity: m.severity, resourceId: m.resourceId })),
      route: routeFor(outgoing.severity, typeOptions?.routes, this.routes, this.known, this.firstRemote, this.logSink.name),
      reached,
      attempt: 1,
      firstFailedAt: now,
      expiresAt: now + this.pendingExpireAfterMs,
      lastReason: reason,
      released: members.length === 1,
    };
  }

  /** Records the delivery on the key (primary, and the durable store when separate). */
  private async markDelivered(member: { type: string; key: string; id?: string; alertId?: string }, now: number, sinks: readonly string[]): Promise<void> {
    const request = { type: member.type, key: member.key, alertId: member.alertId ?? member.id!, at: now, sinks };
    await this.storeCall('primary', () => this.store.markDelivered(request)).catch(() => undefined);
    if (this.durable !== this.store) await this.durableCall(() => this.durable.markDelivered(request)).catch(() => undefined);
  }

  /** Frees the key held by the alert (primary, and the durable store when separate). */
  private async releaseKey(member: { type: string; key: string; id?: string; alertId?: string }, now: number): Promise<void> {
    const request = { type: member.type, key: member.key, alertId: member.alertId ?? member.id!, at: now };
    await this.storeCall('primary', () => this.store.release(request)).catch(() => undefined);
    if (this.durable !== this.store) await this.durableCall(() => this.durable.release(request)).catch(() => undefined);
  }

  /** Before a retry: hold the page's key again. False when another alert holds it (it supersedes the page). */
  private async reclaimPage(page: PendingPage, now: number): Promise<boolean> {
    if (!page.released) return true;
    const windowMs = this.types[page.message.type]?.windowMs ?? this.windowMs;
    const claim = await this.gate.claim(page.message, now, windowMs, page.deferred === true);
    if (claim.via === 'deferred') {
      await this.pending.enqueue({ ...page, lastReason: 'every alert store unavailable' }, now);
      return false;
    }
    if (!claim.claimed) {
      this.record({ ...page.members[0]!, outcome: 'suppressed', sinks: [], detail: `pending page superseded by ${claim.alertId}`, at: now });
    }
    return claim.claimed;
  }

  private async deliverPage(page: PendingPage): Promise<DeliveryReport> {
    const route = page.route.filter((name) => !page.reached.includes(name));
    return this.deliverer.deliver(page.message, route.length > 0 ? route : page.route, this.fallbackOrder, page.reached);
  }

  private async pageDelivered(page: PendingPage, report: DeliveryReport, now: number): Promise<void> {
    this.noteReport(report, now);
    const late = Math.round((now - page.firstFailedAt) / 1000);
    this.logger.warn({ alert: scrubbedAlert(page.message), sinks: report.delivered, attempts: page.attempt + 1 }, `alerting: pending page delivered ${late} s late: ${headline(page.message)}`);
    for (const member of page.members) {
      await this.markDelivered(member, now, [...page.reached, ...report.delivered]);
      this.record({ ...member, outcome: 'delivered', sinks: report.delivered, detail: `pending page, attempt ${page.attempt + 1}, ${late} s after the first failure`, at: now });
    }
  }

  private async pageFailed(page: PendingPage, now: number, expired: boolean, reason: string): Promise<void> {
    this.lastFailure = { at: now, sink: pendingSink, reason };
    for (const member of page.members) {
      // The page gave up, or failed again: the key is free for the next occurrence.
      if (expired || page.released) await this.releaseKey(member, now);
      this.record({ ...member, outcome: 'failed', sinks: [], detail: expired ? `ALERT LOST: expired undelivered (${reason})` : `pending page attempt ${page.attempt} failed: ${reason}`, at: now });
    }
  }

  /** An SMS failed or timed out: record it and fall back once per alert. */
  private async failOver(delivery: TrackedDelivery, error: DeliveryUnconfirmedError, to?: string): Promise<void> {
    const now = this.clock.now();
    const payload = JSON.parse(delivery.payload) as DeliveryPayload;
    const message = payload.message;
    const where = to !== undefined ? ` to ${maskPhoneNumber(to)}` : '';
    this.lastFailure = { at: now, sink: delivery.sink, reason: error.message };
    this.logger.error({ alert: scrubbedAlert(message), sink: delivery.sink, deliveryId: delivery.deliveryId, reason: error.message }, `ALERT NOT DELIVERED via ${delivery.sink}${where}: ${headline(message)} (${error.message}); falling back`);
    for (const member of payload.members) {
      this.record({ ...member, outcome: 'failed', sinks: [delivery.sink], detail: scrubText(`${error.message}${where}`), at: now });
    }
    // Several messages of one alert (one per on-call number) may fail: one fallback per alert.
    const claim = await this.storeCall('primary', () =>
      this.store.claim({
        alertId: randomUUID(),
        type: fallbackClaimType,
        key: delivery.alertId,
        resourceId: undefined,
        severity: 'LOW',
        title: 'sms fallback',
        payload: '{}',
        now,
        windowMs: day,
      }),
    ).catch(() => ({ claimed: true }) as ClaimResult);
    if (!claim.claimed) return;
    const used = new Set([...payload.deliveredTo, delivery.sink]);
    const report = await this.deliverer.deliverFallback(message, this.fallbackOrder, used);
    this.noteReport(report, now);
    let page: PendingPage | undefined;
    if (!report.ok) {
      // Nobody was reached: the page waits in the queue (the SMS sink included: the number
      // may answer later), and the key is free for the next occurrence.
      const reached = payload.deliveredTo.filter((name) => name !== delivery.sink && name !== this.logSink.name);
      page = this.newPage(message, payload.members.length > 1 ? [] : [message], reached, now, `${delivery.sink} not delivered (${error.message}); no fallback took it`);
      page = { ...page, members: payload.members, released: payload.members.length === 1 };
      await this.pending.enqueue(page, now);
      if (page.released) for (const member of payload.members) await this.releaseKey(member, now);
    }
    for (const member of payload.members) {
      this.record({
        ...member,
        outcome: report.ok ? 'delivered' : 'failed',
        sinks: report.delivered,
        detail: `fallback after ${delivery.sink} was not delivered${report.ok ? '' : `; no fallback sink took it; pending until ${new Date(page!.expiresAt).toISOString()}`}`,
        at: now,
      });
    }
  }

  private async maintain(): Promise<MaintenanceReport> {
    const now = this.clock.now();
    let escalated = 0;
    let unconfirmed = 0;
    let pruned = false;
    let retried = 0;
    const replayed = await this.gate.replay();
    await this.history.retryNow();
    try {
      const overdue = await this.durableCall(() => this.durable.takeOverdueDeliveries({ at: now, limit: 100 }));
      for (const delivery of [...overdue, ...(await this.pending.takeLocal(now))]) {
        if (delivery.sink === silenceSink) continue; // a silence reached its end
        if (delivery.sink === pendingSink) {
          retried++;
          await this.pending.retry(delivery, now);
          continue;
        }
        unconfirmed++;
        await this.failOver(delivery, new DeliveryUnconfirmedError(delivery.sink, delivery.deliveryId, 'timeout'));
      }
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, 'alerting maintenance: checking SMS receipts and pending pages failed');
      for (const delivery of await this.pending.takeLocal(now)) {
        retried++;
        await this.pending.retry(delivery, now);
      }
    }
    await this.pending.recount();
    await this.shared.sync().catch((error) => this.logger.warn({ err: describeError(error) }, 'alerting maintenance: reading shared silences failed'));
    await this.watchSelf(now).catch((error) => this.logger.warn({ err: describeError(error) }, 'alerting maintenance: self-check failed'));
    try {
      escalated = await this.escalate(now);
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, 'alerting maintenance: escalation failed');
    }
    if (now - this.lastPruneAt >= defaults.pruneEveryMs) {
      try {
        const cutoff = { historyBefore: now - this.historyRetentionMs, idleBefore: now - this.historyRetentionMs };
        await this.storeCall('primary', () => this.store.prune(cutoff));
        if (this.durable !== this.store) await this.durableCall(() => this.durable.prune(cutoff));
        this.lastPruneAt = now;
        pruned = true;
      } catch (error) {
        this.logger.warn({ err: describeError(error) }, 'alerting maintenance: pruning failed');
      }
    }
    return { escalated, unconfirmed, pruned, retried, pending: this.pending.summary.count, replayed };
  }

  private async escalate(now: number): Promise<number> {
    const delays = Object.values(this.types)
      .map((t) => t.escalateAfterMs)
      .filter((d): d is number => typeof d === 'number');
    if (this.escalateAfterMs !== false) delays.push(this.escalateAfterMs);
    if (delays.length === 0) return 0;
    const candidates = await this.storeCall('primary', () =>
      this.store.escalationCandidates({ firstSeenBefore: now - Math.min(...delays), lastSeenAfter: now - this.staleAfterMs, limit: 100 }),
    );
    let count = 0;
    for (const candidate of candidates) {
      const after = this.types[candidate.type]?.escalateAfterMs ?? this.escalateAfterMs;
      if (after === false || now - candidate.firstSeenAt < after) continue;
      if (!(await this.storeCall('primary', () => this.store.claimEscalation({ type: candidate.type, key: candidate.key, alertId: candidate.alertId, at: now })))) continue;
      count++;
      const original = JSON.parse(candidate.payload) as AlertMessage;
      const hours = Math.round(((now - candidate.firstSeenAt) / hour) * 10) / 10;
      const message = deriveMessage(original, {
        kind: 'escalation',
        severity: 'HIGH',
        message: `Unresolved for ${hours} h (raised ${candidate.occurrences} times). ${original.message}`,
        occurredAt: new Date(now).toISOString(),
      });
      const route = routeFor('HIGH', this.types[candidate.type]?.routes, this.routes, this.known, this.firstRemote, this.logSink.name);
      const report = await this.deliverer.deliver(message, route, this.fallbackOrder);
      this.noteReport(report, now);
      if (report.ok) {
        await this.storeCall('primary', () => this.store.markDelivered({ type: candidate.type, key: candidate.key, alertId: candidate.alertId, at: now, sinks: report.delivered })).catch(() => undefined);
      }
      this.record({
        alertId: candidate.alertId,
        type: candidate.type,
        key: candidate.key,
        resourceId: candidate.resourceId,
        severity: 'HIGH',
        outcome: 'escalated',
        sinks: report.delivered,
        detail: `MEDIUM unresolved for ${hours} h${report.ok ? '' : '; every remote sink failed'}`,
        at: now,
      });
    }
    return count;
  }

  private noteReport(report: DeliveryReport, now: number): void {
    if (report.delivered.some((name) => name !== this.logSink.name)) this.lastDeliveryAt = now;
    const last = report.failed.at(-1);
    if (last !== undefined) this.lastFailure = { at: now, sink: last.sink, reason: last.reason };
  }

  /**
   * A store call under `safeCall` (timeout `storeTimeoutMs`, one retry when known down,
   * breaker); tracks the store's health (up, slow, down).
   */
  private async storeCall<T>(which: 'primary' | 'durable', fn: () => Promise<T>): Promise<T> {
    const health = which === 'durable' && this.durableHealth !== undefined ? this.durableHealth : this.primaryHealth;
    const started = performance.now();
    try {
      const value = await this.safeCall(which === 'durable' && this.durableHealth !== undefined ? 'alert_store_durable' : 'alert_store', () => fn());
      health.answered(performance.now() - started, this.clock.now());
      return value;
    } catch (error) {
      health.failed(error, describeError(error), this.clock.now());
      throw error;
    }
  }

  /** A call on the durable store (the primary when no `durableStore` is configured). */
  private durableCall<T>(fn: () => Promise<T>): Promise<T> {
    return this.storeCall(this.durable === this.store ? 'primary' : 'durable', fn);
  }

  /**
   * Queues a history row (write-behind, batched): never awaited by the caller, so the
   * winner of a burst does not wait behind its duplicates' rows. A store failure is logged.
   */
  private record(entry: AlertHistoryEntry): void {
    this.history.add({ ...entry, detail: entry.detail === undefined ? undefined : scrubText(entry.detail) });
  }

  /** A store changed state: log it, and raise it when it went down (through what still works). */
  private storeChanged(next: StoreState, previous: StoreState): void {
    if (next.state === 'down') {
      this.logger.error({ store: next.store, reason: next.reason }, `ALERT STORE DOWN: ${next.store} (${next.reason ?? 'unknown'}); claims fall back`);
      // Later, not inside the failing store call; the claim of this alert falls back too.
      setImmediate(() => {
        if (this.closed) return;
        void this.sendCriticalAlert({
          type: selfAlert.storeDown,
          severity: 'HIGH',
          resourceId: next.store,
          title: `Alert store ${next.store} unavailable`,
          message: `${next.reason ?? 'no answer'}. Dedup now uses ${this.durableHealth !== undefined ? 'the durable store, then ' : ''}the fallback rule; history may be incomplete.`,
        });
      });
    } else if (previous.state === 'down') {
      this.logger.warn({ store: next.store, downFor: this.clock.now() - previous.since }, `alert store ${next.store} answers again`);
    } else if (next.state === 'slow') {
      this.logger.warn({ store: next.store, reason: next.reason }, `alert store ${next.store} is slow (${next.reason}); claims wait for it`);
    }
  }

  /** Raises the alert system's own problems: sinks whose breaker is open, pages pending too long. */
  private async watchSelf(now: number): Promise<void> {
    for (const sink of this.sinks.values()) {
      if (sink.remote === false) continue;
      const state = this.safeCall.registry.find(sinkOperation(sink.name))?.state ?? 'closed';
      if (state === 'open' && !this.raisedSinks.has(sink.name)) {
        this.raisedSinks.add(sink.name);
        await this.sendCriticalAlert({
          type: selfAlert.sinkFailing,
          severity: 'HIGH',
          resourceId: sink.name,
          title: `Alert sink ${sink.name} failing`,
          message: `Its breaker is open: ${this.lastFailure?.sink === sink.name ? this.lastFailure.reason : 'repeated failures'}. Alerts fall back to other sinks.`,
        });
      } else if (state === 'closed') {
        this.raisedSinks.delete(sink.name);
      }
    }
    const { count, oldestAt } = this.pending.summary;
    if (this.pendingAlertAfterMs !== false && count > 0 && oldestAt !== undefined && now - oldestAt >= this.pendingAlertAfterMs) {
      await this.sendCriticalAlert({
        type: selfAlert.pagesPending,
        severity: 'HIGH',
        title: `${count} alert page${count === 1 ? '' : 's'} undelivered`,
        message: `The oldest has waited ${Math.round((now - oldestAt) / minute)} min; no sink took it. Check the sinks' providers.`,
      });
    }
  }

  private resultOf(
    message: AlertMessage | undefined,
    status: AlertStatus,
    fields: Partial<Omit<AlertResult, 'status'>> & Partial<Pick<AlertResult, 'alertId' | 'type' | 'key' | 'severity'>>,
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
