// verifyTwilioSignature (src/webhooks/twilio-signature.ts) over real HTTP: what the Twilio SDK
// accepts passes, anything else gets 403; a genuine request costs one HMAC even when the public
// URL has a port (the SDK alone tries the URL without its port first: two).
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import crypto from 'node:crypto';
import express from 'express';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Metrics } from '../../src/metrics.js';
import { twilioSignatureSdk } from '../../src/providers/webhook-sdks.js';
import { verifyTwilioSignature } from '../../src/webhooks/twilio-signature.js';

const authToken = 'test-auth-token-0123456789abcdef';
const params = { MessageSid: 'SM0123456789abcdef0123456789abcdef', From: '+15551230001', To: '+15551230002', Body: 'Hi' };

describe('verifyTwilioSignature', () => {
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const metrics = { webhooks: { inc() {} } } as unknown as Metrics;
  let server: Server;
  let local: string;
  // What the provider was given, with a port: the signed URL is this plus the path.
  const publicBaseUrl = 'https://hooks.example.com:8443';

  beforeAll(async () => {
    await twilioSignatureSdk.load();
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.post('/sms', verifyTwilioSignature({ authToken, publicBaseUrl, logger: silent, metrics }), (_req, res) => void res.send('ok'));
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    local = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (signature: string | undefined) =>
    fetch(`${local}/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature === undefined ? {} : { 'x-twilio-signature': signature }) },
      body: new URLSearchParams(params).toString(),
    });

  it('accepts the signature of the exact URL with one HMAC', async () => {
    const signature = twilio.getExpectedTwilioSignature(authToken, `${publicBaseUrl}/sms`, params);
    const hmac = vi.spyOn(crypto, 'createHmac');
    try {
      expect((await post(signature)).status).toBe(200);
      expect(hmac).toHaveBeenCalledTimes(1);
    } finally {
      hmac.mockRestore();
    }
  });

  it('still accepts what only the SDK’s other candidates match (the URL without its port)', async () => {
    expect((await post(twilio.getExpectedTwilioSignature(authToken, 'https://hooks.example.com/sms', params))).status).toBe(200);
  });

  it('refuses a wrong, a truncated, another token’s and a missing signature', async () => {
    const right = twilio.getExpectedTwilioSignature(authToken, `${publicBaseUrl}/sms`, params);
    expect((await post(`${right.slice(0, -2)}AA`)).status).toBe(403);
    expect((await post(right.slice(0, 10))).status).toBe(403);
    expect((await post(twilio.getExpectedTwilioSignature('another-token', `${publicBaseUrl}/sms`, params))).status).toBe(403);
    expect((await post(undefined)).status).toBe(403);
  });
});
