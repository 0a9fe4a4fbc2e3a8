// Hostile input to the status-callback handler. An unauthenticated client must not make it
// buffer a large body before the signature is checked: it reads at most `maxBodyBytes` from
// the stream and answers 413 (asserted on the bytes the server's socket read, not on
// timing). A signed callback with fields Twilio never sends gets 400, never reaching the store.
import type { Server } from 'node:http';
import express from 'express';
import twilioSdk from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postLargeBody, startFakeTwilio, type FakeTwilio } from '@hardening/test-support';
import { expressTwilioStatusCallback, type DeliveryStatusUpdate } from '../src/index.js';
import { captureLogger } from './support/capture-logger.js';

const MB = 1024 * 1024;

describe('expressTwilioStatusCallback under hostile input', () => {
  let twilio: FakeTwilio;
  let server: Server;
  let base: string;
  const updates: DeliveryStatusUpdate[] = [];

  beforeAll(async () => {
    twilio = await startFakeTwilio();
    const alerts = { handleDeliveryStatus: (update: DeliveryStatusUpdate) => Promise.resolve((updates.push(update), 'confirmed' as const)) };
    const app = express();
    // No body parser: the handler reads the stream itself.
    app.post('/alert-status', expressTwilioStatusCallback({ alerts, authToken: twilio.authToken, logger: captureLogger(), maxBodyBytes: 16 * 1024 }) as never);
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await twilio.close();
  });

  it.each([
    ['a chunked body', false],
    ['a declared Content-Length', true],
  ])('200 MB with %s: 413 problem+json after reading under 1 MB, nothing handled', async (_name, declareLength) => {
    const reply = await postLargeBody(server, `${base}/alert-status`, 200 * MB, {
      declareLength,
      contentType: 'text/plain',
      headers: { 'x-twilio-signature': 'bm90LWEtc2lnbmF0dXJl' },
    });
    expect(reply.status).toBe(413);
    expect(reply.contentType).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(reply.body)).toMatchObject({ status: 413, title: 'Payload Too Large' });
    expect(reply.serverBytesRead).toBeGreaterThanOrEqual(0);
    expect(reply.serverBytesRead).toBeLessThan(1 * MB);
    expect(updates).toEqual([]);
  });

  it('a body within the limit still reaches the signature check (403 for a wrong one)', async () => {
    const response = await fetch(`${base}/alert-status`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'wrong' },
      body: 'MessageSid=SM1&MessageStatus=delivered',
    });
    expect(response.status).toBe(403);
    expect(updates).toEqual([]);
  });

  it.each([
    ['a NUL in MessageSid', { MessageSid: 'SM\u0000', MessageStatus: 'delivered' }],
    ['a 5,000-character MessageStatus', { MessageSid: 'SM0123', MessageStatus: 'x'.repeat(5000) }],
    ['an over-long MessageSid', { MessageSid: `SM${'a'.repeat(300)}`, MessageStatus: 'delivered' }],
  ])('signed, with %s: 400 problem+json, nothing handled', async (_name, params) => {
    const url = `${base}/alert-status`;
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSdk.getExpectedTwilioSignature(twilio.authToken, url, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(updates).toEqual([]);
  });

  it('signed and well-formed: handled (204), a malformed ErrorCode left out', async () => {
    const url = `${base}/alert-status`;
    const params = { MessageSid: 'SM0123', MessageStatus: 'undelivered', ErrorCode: '3\u000000' };
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSdk.getExpectedTwilioSignature(twilio.authToken, url, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    expect(response.status).toBe(204);
    expect(updates.splice(0)).toEqual([{ deliveryId: 'SM0123', status: 'undelivered', errorCode: undefined, to: undefined }]);
  });

  it('refuses a maxBodyBytes that is not a positive integer', () => {
    const alerts = { handleDeliveryStatus: () => Promise.resolve('confirmed' as const) };
    expect(() => expressTwilioStatusCallback({ alerts, authToken: 'x', maxBodyBytes: 0 })).toThrow(TypeError);
    expect(() => expressTwilioStatusCallback({ alerts, authToken: 'x', maxBodyBytes: 1.5 })).toThrow(/positive integer/);
  });
});
