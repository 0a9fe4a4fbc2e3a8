import type { Request } from 'express';

/**
 * The URL a provider called, for signature checks (Twilio signs the full URL, query
 * string included). Behind a proxy that rewrites host or scheme, set PUBLIC_BASE_URL
 * (preferred) or TRUST_PROXY so Express reads X-Forwarded-Proto / X-Forwarded-Host.
 */
export function publicUrl(req: Request, publicBaseUrl: string | undefined): string {
  if (publicBaseUrl !== undefined) return `${publicBaseUrl.replace(/\/+$/, '')}${req.originalUrl}`;
  return `${req.protocol}://${req.get('host') ?? 'localhost'}${req.originalUrl}`;
}
