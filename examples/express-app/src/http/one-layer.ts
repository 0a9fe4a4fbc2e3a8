import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Middlewares that every request passes through, run in order as ONE layer of the app's
 * router: each calls `next()` to hand over to the next one, the last one's `next()` leaves
 * the layer, and an error (passed to `next`, thrown, or a rejected promise, as Express 5
 * takes them) leaves it at once for the error handlers. A handler that calls
 * `next('route')` or `next('router')` leaves the layer with it.
 *
 * Why by hand: a router (Express's own way to group middlewares) is what costs. For each
 * layer a request passes, Express 5's router matches the path, builds a match and a params
 * object and a closure: 13.8 % of what the app allocated on `POST /sms` under
 * `pnpm bench:app` (a sampling heap profile counting collected objects too) was the router's,
 * for the four layers a message passed before it reached its route. Here the request log, the
 * duration metric and the body limit are one of them.
 *
 * @param handlers - Synchronous or promise-returning middlewares, in order.
 * @returns One middleware.
 * @example
 * ```ts
 * app.use(inOneLayer(requestLog(ctx.logger), httpDurationMiddleware(ctx.metrics), declaredBodyLimit()));
 * ```
 */
export function inOneLayer(...handlers: RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    let index = 0;
    const step = (error?: unknown): void => {
      if (error !== undefined && error !== null) {
        next(error);
        return;
      }
      const handler = handlers[index++];
      if (handler === undefined) {
        next();
        return;
      }
      try {
        const returned: unknown = handler(req, res, step);
        if (returned instanceof Promise) returned.catch((rejection: unknown) => next(rejection ?? new Error('Rejected without a reason')));
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}
