import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';

/** The portal's session cookie. HttpOnly and SameSite=Strict always; Secure in production. */
export const PORTAL_SESSION_COOKIE = 'portal_session';
export const PORTAL_SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** The form field (or X-CSRF-Token header) that carries the synchronizer token on every portal mutation. */
export const CSRF_FIELD = '_csrf';

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** 256 random bits, base64url: for sign-in links and session cookies. */
export function generatePortalToken(): string {
  return randomBytes(32).toString('base64url');
}

export function isPortalToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN.test(value);
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
