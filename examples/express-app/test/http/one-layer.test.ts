// inOneLayer (src/http/one-layer.ts) in a real Express 5 app over HTTP: the handlers run in
// order as one layer, and an error passed, thrown or rejected leaves it for the error handler
// with the rest of the layer skipped.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inOneLayer } from '../../src/http/one-layer.js';

describe('inOneLayer', () => {
  const ran: string[] = [];
  let server: Server;
  let base: string;

  const mark =
    (name: string): RequestHandler =>
    (_req, _res, next) => {
      ran.push(name);
      next();
    };
  const byQuery: RequestHandler = (req, _res, next) => {
    ran.push('failing');
    const how = req.query.fail;
    if (how === 'next') next(new Error('passed'));
    else if (how === 'throw') throw new Error('thrown');
    else if (how === 'reject') return Promise.reject(new Error('rejected'));
    else next();
    return undefined;
  };

  beforeAll(async () => {
    const app = express();
    app.use(inOneLayer(mark('first'), byQuery, mark('third')));
    app.get('/route', (_req, res) => {
      ran.push('route');
      res.send('ok');
    });
    app.use(((error: Error, _req, res, _next) => {
      ran.push(`error handler: ${error.message}`);
      res.status(500).send(error.message);
    }) as ErrorRequestHandler);
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    ran.length = 0;
  });

  it('runs every handler in order, then the route', async () => {
    const response = await fetch(`${base}/route`);
    expect(await response.text()).toBe('ok');
    expect(ran).toEqual(['first', 'failing', 'third', 'route']);
  });

  it.each([
    ['next', 'passed'],
    ['throw', 'thrown'],
    ['reject', 'rejected'],
  ])('an error %s-ed leaves the layer for the error handler, the rest of the layer and the route skipped', async (how, message) => {
    const response = await fetch(`${base}/route?fail=${how}`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe(message);
    expect(ran).toEqual(['first', 'failing', `error handler: ${message}`]);
  });
});
