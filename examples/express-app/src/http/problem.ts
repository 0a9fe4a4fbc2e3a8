import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '@hardening/core';
import { scrubText } from '@hardening/core';
import { describeError } from '../db/refused-input.js';

/** An RFC 9457 problem document. */
export interface Problem {
  readonly type?: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly [extension: string]: unknown;
}

/** Sends `problem` as `application/problem+json`. */
export function sendProblem(res: Response, problem: Problem): void {
  res
    .status(problem.status)
    .type('application/problem+json')
    .json({ type: 'about:blank', ...problem });
}

/**
 * The last error handler: every error becomes problem+json, with the body-parser errors
 * mapped to their statuses (413 too large, 400 malformed) and the rest logged (scrubbed)
 * and answered 500 without details.
 */
export function problemErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const err = error as { status?: number; statusCode?: number; type?: string; message?: string };
    const status = err.status ?? err.statusCode ?? 500;
    if (status === 413) {
      sendProblem(res, { title: 'Payload too large', status: 413, detail: 'The request body is larger than this endpoint accepts.' });
      return;
    }
    if (status >= 400 && status < 500) {
      sendProblem(res, {
        title: 'Bad request',
        status,
        detail: err.type === 'entity.parse.failed' ? 'The body is not valid JSON.' : scrubText(err.message ?? 'Bad request'),
      });
      return;
    }
    // describeError: a Prisma error's message quotes every argument (a customer's text).
    logger.error({ err: describeError(error), method: req.method, path: req.path }, 'unhandled error');
    sendProblem(res, { title: 'Internal server error', status: 500 });
  };
}
