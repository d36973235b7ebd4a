import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const PORTAL_PATH = '/portal';
const FORM_BODY_LIMIT = 64 * 1024;

/** No inline script or style, nothing from elsewhere, no framing, forms post only to us. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The portal's one stylesheet and one script (progressive enhancement only), read once at start. */
const ASSETS: Record<string, { type: string; body: Buffer }> = Object.fromEntries(
  [
    ['portal.css', 'text/css; charset=utf-8'],
    ['portal.js', 'text/javascript; charset=utf-8'],
  ].map(([name, type]) => [`${PORTAL_PATH}/assets/${name}`, { type, body: readFileSync(join(__dirname, 'assets', name)) }]),
);

export function isPortalRequest(request: Request): boolean {
  return request.path === PORTAL_PATH || request.path.startsWith(`${PORTAL_PATH}/`);
}

function portalHeaders(request: Request, response: Response, next: NextFunction): void {
  if (!isPortalRequest(request)) return next();
  response.set({
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    // same-origin, not no-referrer: with no-referrer Chrome sends "Origin: null" on our own form posts.
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  const asset = request.method === 'GET' || request.method === 'HEAD' ? ASSETS[request.path] : undefined;
  if (!asset) {
    // Pages may hold a signing secret or a delivery's payload: never cached.
    response.set('Cache-Control', 'no-store');
    return next();
  }
  response.set({ 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=300' }).send(asset.body);
}

/**
 * The portal's HTTP set-up, before any route: its security headers, its static files, and a parser
 * for its HTML forms (application/x-www-form-urlencoded, accepted under /portal only).
 */
export function setUpPortal(app: NestExpressApplication): void {
  app.use(portalHeaders);
  app.useBodyParser('urlencoded', { extended: false, limit: FORM_BODY_LIMIT, parameterLimit: 100 });
}
