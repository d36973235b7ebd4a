import { createHash, createHmac } from 'node:crypto';
import type { Request, Response } from 'express';
import type { CredentialMac } from './credential-mac';

/** The portal's session cookie. HttpOnly and SameSite=Strict always; Secure in production. */
export const PORTAL_SESSION_COOKIE = 'portal_session';
export const PORTAL_SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** The form field (or X-CSRF-Token header) that carries the synchronizer token on every portal mutation. */
export const CSRF_FIELD = '_csrf';

/** A sign-in link's or session cookie's token: 256 random bits and their MAC (CredentialMac). */
export function generatePortalToken(mac: CredentialMac, purpose: 'portal-link' | 'portal-session'): string {
  return mac.generate(purpose);
}

/** True only for a token this deployment issued for `purpose`: a forged one is refused without a database query. */
export function isPortalToken(mac: CredentialMac, purpose: 'portal-link' | 'portal-session', value: unknown): value is string {
  return typeof value === 'string' && mac.verify(purpose, value);
}

/** Only this is stored, for links and sessions alike. */
export function hashPortalToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The CSRF token of a session, derived from the session token the browser holds: tied to the
 * session, unguessable without the HttpOnly cookie, and nothing more to store.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('portal-csrf').digest('base64url');
}

/** The session token from the Cookie header, or undefined. */
export function readSessionCookie(request: Request): string | undefined {
  for (const pair of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = pair.trim().split('=');
    if (name === PORTAL_SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}

export function setSessionCookie(response: Response, token: string, secure: boolean): void {
  response.cookie(PORTAL_SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: PORTAL_SESSION_TTL_MS });
}

export function clearSessionCookie(response: Response, secure: boolean): void {
  response.clearCookie(PORTAL_SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure, path: '/' });
}
