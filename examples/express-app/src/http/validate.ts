import type { Response } from 'express';
import type { z } from 'zod';
import { sendProblem } from './problem.js';

/** Where a request value came from, for the problem's `invalid-params` names. */
export type InputSource = 'query' | 'body' | 'path';

/**
 * Parses `value` with `schema`; on failure answers 400 problem+json naming every bad field
 * (`invalid-params`, as in RFC 9457's example: `[{ name: "severity", in: "query", reason }]`)
 * and returns undefined. Field names are paths (`numbers.2`); values are never echoed.
 *
 * @returns The parsed value, or undefined when the answer was sent.
 */
export function parseOr400<S extends z.ZodType>(res: Response, schema: S, value: unknown, source: InputSource): z.output<S> | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const nameOf = (path: readonly PropertyKey[]) => (path.length === 0 ? source : path.map(String).join('.'));
  const invalid = result.error.issues.flatMap((issue) =>
    // An unknown field is named itself, not its parent.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ name: nameOf([...issue.path, key]), in: source, reason: 'is not a known field' }))
      : [{ name: nameOf(issue.path), in: source, reason: issue.message }],
  );
  sendProblem(res, {
    title: 'Bad request',
    status: 400,
    detail: invalid.map((p) => `${p.name}: ${p.reason}`).join('; '),
    'invalid-params': invalid,
  });
  return undefined;
}

/** Answers 404 problem+json for an unknown resource id. */
export function sendNotFound(res: Response, what: string, id: string): void {
  sendProblem(res, { title: 'Not found', status: 404, detail: `No ${what} with id ${JSON.stringify(id.slice(0, 100))}.` });
}
