import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { addNumbers } from '../domain/number-pool.js';
import { allocateWaitingClients } from '../domain/onboarding.js';
import { toE164 } from '../domain/phone.js';
import { parseOr400 } from '../http/validate.js';

const phone = z.string().transform((value, ctx) => {
  const e164 = toE164(value);
  if (e164 === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a phone number, e.g. +15551234567' });
    return z.NEVER;
  }
  return e164;
});
const body = z
  .object({
    numbers: z.array(phone).min(1, 'must list at least one number').max(500, 'must list at most 500 numbers'),
    role: z.enum(['CLIENT', 'SYSTEM']).default('CLIENT'),
  })
  .strict();

/**
 * An operator adds E.164 numbers to the pool (admin API and console alike), then numbers go
 * to the clients waiting for one (texting each).
 *
 * @example
 * ```ts
 * const { added, alreadyPresent, allocated } = await addNumbersByOperator(ctx, ['+15551230001']);
 * ```
 */
export async function addNumbersByOperator(ctx: AppContext, numbers: readonly string[], role: 'CLIENT' | 'SYSTEM' = 'CLIENT') {
  const result = await addNumbers(ctx.db.prisma, numbers, role);
  const allocated = result.added.length > 0 && role === 'CLIENT' ? await allocateWaitingClients(ctx.db.prisma, ctx.config.systemNumber) : 0;
  ctx.logger.info({ added: result.added.length, alreadyPresent: result.alreadyPresent.length, allocated, role }, 'numbers added to the pool by an operator');
  return { added: result.added, alreadyPresent: result.alreadyPresent, allocated };
}

/**
 * POST /api/admin/numbers `{ numbers: ["+1555..."], role?: "CLIENT" | "SYSTEM" }`: adds
 * numbers to the pool (all or none: one malformed number is a 400 naming it), then gives
 * numbers to clients waiting for one (texting each). 201 when any was added, 200 otherwise.
 */
export function numberRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post('/numbers', async (req, res) => {
    const input = parseOr400(res, body, req.body ?? {}, 'body');
    if (input === undefined) return;
    const result = await addNumbersByOperator(ctx, input.numbers, input.role);
    res.status(result.added.length > 0 ? 201 : 200).json(result);
  });
  return router;
}
