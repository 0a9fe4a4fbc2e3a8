import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { BreakerRegistry, createSafeCall, silentLogger } from '@hardening/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry } from '../../src/telemetry.js';

// A stand-in OTLP/HTTP collector on loopback: it keeps each request's path and body.
const received: Array<{ path: string; type: string | undefined; body: Buffer }> = [];
const collector = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ path: req.url ?? '', type: req.headers['content-type'], body: Buffer.concat(chunks) });
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  trace.disable();
  metrics.disable();
  context.disable();
  propagation.disable();
  await new Promise((resolve) => collector.close(resolve));
});

describe('app telemetry', () => {
  it('does nothing without OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    expect(await startTelemetry({})).toMatchObject({ tracing: false, metrics: false });
  });

  it('exports the SDK spans and metrics over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const { port } = collector.address() as AddressInfo;
    const telemetry = await startTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SERVICE_NAME: 'otlp-test-app' });
    expect(telemetry).toMatchObject({ tracing: true, metrics: true });
    const safeCall = createSafeCall({ registry: new BreakerRegistry(), logger: silentLogger });
    await safeCall('otlp_probe', () => Promise.resolve('ok'));
    await telemetry.shutdown(); // flushes both exporters
    const traces = received.filter((r) => r.path === '/v1/traces');
    const exported = received.filter((r) => r.path === '/v1/metrics');
    expect(traces.length).toBeGreaterThan(0);
    expect(exported.length).toBeGreaterThan(0);
    const traceBytes = Buffer.concat(traces.map((r) => r.body)).toString('latin1');
    expect(traceBytes).toContain('safeCall otlp_probe');
    expect(traceBytes).toContain('otlp-test-app');
    expect(Buffer.concat(exported.map((r) => r.body)).toString('latin1')).toContain('hardening.safe_call.duration');
  });
});
