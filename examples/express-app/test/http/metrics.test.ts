// GET /metrics over real HTTP: behind the admin token, Prometheus text with HTTP durations by
// route pattern, webhook outcomes, breaker states and queue depth, named with METRICS_PREFIX
// (hardening_app_ by default).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, testAdminToken, type TestApp } from '../support/http-app.js';

describe('/metrics', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('needs the admin token', async () => {
    const response = await app.request('/metrics');
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain('hardening_app_http_request_duration_seconds');
  });

  it('serves the registry in Prometheus text format, with HTTP durations by route pattern', async () => {
    await app.admin('/api/admin/deliveries/00000000-0000-4000-8000-000000000000/redrive', { method: 'POST' }); // 404
    await app.request('/health/ready');
    await app.request('/no/such/thing/12345');
    await app.request('/sms', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'MessageSid=SM1' }); // unsigned: 403
    app.ctx.breakers.get('twilio_sms').open();

    const response = await app.request('/metrics', { headers: { authorization: `Bearer ${testAdminToken}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = await response.text();
    expect(text).toMatch(/^hardening_app_http_request_duration_seconds_count\{method="POST",route="\/api\/admin\/deliveries\/:id\/redrive",status="404"\} 1$/m);
    expect(text).toMatch(/^hardening_app_http_request_duration_seconds_count\{method="GET",route="\/health\/ready",status="200"\} 1$/m);
    expect(text).toMatch(/^hardening_app_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1$/m);
    expect(text).toMatch(/^hardening_app_http_request_duration_seconds_count\{method="POST",route="\/sms",status="403"\} 1$/m);
    expect(text).not.toContain('12345'); // raw paths never become labels
    expect(text).toMatch(/^hardening_app_webhook_requests_total\{provider="twilio",outcome="bad_signature"\} 1$/m);
    expect(text).toMatch(/^hardening_app_circuit_breaker_state\{name="twilio_sms"\} 1$/m);
    expect(text).toMatch(/^hardening_app_queue_depth 0$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    app.ctx.breakers.get('twilio_sms').reset();
  });
});

describe('/metrics with METRICS_PREFIX', () => {
  let custom: TestApp;
  let bare: TestApp;
  beforeAll(async () => {
    [custom, bare] = await Promise.all([startTestApp({ METRICS_PREFIX: 'acme_' }), startTestApp({ METRICS_PREFIX: 'none' })]);
  });
  afterAll(async () => {
    await Promise.all([custom?.close(), bare?.close()]);
  });
  const scrape = async (app: TestApp): Promise<string> => {
    await app.request('/health/ready');
    const response = await app.request('/metrics', { headers: { authorization: `Bearer ${testAdminToken}` } });
    expect(response.status).toBe(200);
    return response.text();
  };

  it('names every app metric with the configured prefix, and leaves the process defaults standard', async () => {
    const text = await scrape(custom);
    expect(text).toMatch(/^acme_http_request_duration_seconds_count\{method="GET",route="\/health\/ready",status="200"\} 1$/m);
    expect(text).toMatch(/^acme_queue_depth 0$/m);
    expect(text).toMatch(/^# TYPE acme_webhook_requests_total counter$/m);
    expect(text).not.toContain('hardening_app_');
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it('none: the bare names', async () => {
    const text = await scrape(bare);
    expect(text).toMatch(/^queue_depth 0$/m);
    expect(text).toMatch(/^# TYPE circuit_breaker_state gauge$/m);
    expect(text).not.toContain('hardening_app_');
  });
});
