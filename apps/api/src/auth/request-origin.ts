import type { Request } from 'express';

/**
 * Where a browser says a request comes from (Sec-Fetch-Site, Origin): `same-origin` when what it
 * sent names this origin, `cross-site` when anything names another (or `Origin: null`), `unknown`
 * when it sent neither (not a browser, or a very old one).
 */
export function requestOrigin(request: Request): 'same-origin' | 'cross-site' | 'unknown' {
  const fetchSite = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  if (fetchSite === undefined && origin === undefined) return 'unknown';
  if (fetchSite !== undefined && fetchSite !== 'same-origin') return 'cross-site';
  if (origin !== undefined && !sameHost(origin, request.headers.host)) return 'cross-site';
  return 'same-origin';
}

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
