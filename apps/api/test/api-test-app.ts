import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { Environment } from '@callbacks/config';
import { createTestEnvironment, TEST_ADMIN_API_KEY, type TestEnvironment } from '@callbacks/testing';
import { createApiApp } from '../src/api-app';
import { CredentialMac } from '../src/auth/credential-mac';
import { CSRF_FIELD, csrfTokenFor, generatePortalToken, hashPortalToken, PORTAL_SESSION_COOKIE } from '../src/auth/portal-session-cookie';

export const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_API_KEY}` };

export interface TestPartner {
  partnerUniqueId: string;
  apiKey: string;
  auth: { Authorization: string };
}

export interface ApiTestApp {
  app: INestApplication;
  environment: TestEnvironment;
  http: ReturnType<typeof request>;
  dataSource: DataSource;
  createPartner(name?: string): Promise<TestPartner>;
  /** Row counts of every table, to prove a failed request wrote nothing. */
  tableCounts(): Promise<Record<string, number>>;
  /** Each table's row count and a digest of all its rows: equal only if nothing was inserted, updated or deleted. */
  tableContents(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export async function startApiTestApp(overrides: Environment = {}): Promise<ApiTestApp> {
  const environment = await createTestEnvironment(overrides);
  const app = await createApiApp(environment.config);
  await app.init();
  const http = request(app.getHttpServer());
  const dataSource = app.get(DataSource);
  return {
    app,
    environment,
    http,
    dataSource,
    async createPartner(name = 'Acme') {
      const response = await http.post('/admin/partners').set(ADMIN).send({ name }).expect(201);
      const { partnerUniqueId, apiKey } = response.body as { partnerUniqueId: string; apiKey: string };
      return { partnerUniqueId, apiKey, auth: { Authorization: `Bearer ${apiKey}` } };
    },
    async tableCounts() {
      const tables = (await dataSource.query(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY tablename`,
      )) as Array<{ tablename: string }>;
      const counts: Record<string, number> = {};
      for (const { tablename } of tables) {
        const [{ count }] = (await dataSource.query(`SELECT count(*)::int AS count FROM "${tablename}"`)) as Array<{ count: number }>;
        counts[tablename] = count;
      }
      return counts;
    },
    async tableContents() {
      const tables = (await dataSource.query(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY tablename`,
      )) as Array<{ tablename: string }>;
      const digests: Record<string, string> = {};
      for (const { tablename } of tables) {
        // Every row as text, in a stable order: an update changes the digest as surely as an insert.
        const [{ digest }] = (await dataSource.query(
          `SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS digest FROM "${tablename}" t`,
        )) as Array<{ digest: string }>;
        digests[tablename] = digest;
      }
      return digests;
    },
    async close() {
      await app.close();
      await environment.destroy();
    },
  };
}

/** Asserts an RFC 9457 problem response with the given status and code; returns its body. */
export function expectProblem(
  response: request.Response,
  status: number,
  code: string,
): { detail: string; errors?: Array<{ field: string; message: string }> } {
  expect({ status: response.status, contentType: response.headers['content-type'], code: response.body.code }).toEqual({
    status,
    contentType: expect.stringMatching(/^application\/problem\+json/),
    code,
  });
  expect(response.body).toMatchObject({ type: 'about:blank', status, title: expect.any(String), detail: expect.any(String) });
  expect(JSON.stringify(response.body)).not.toMatch(/\bat .*\.(js|ts):\d+|QueryFailedError|SELECT |INSERT /);
  return response.body;
}

/** Requests made with one portal session: pages, and forms posted same-origin with the session's CSRF token. */
export interface PortalTestSession {
  page(path: string): request.Test;
  submit(path: string, form: Record<string, string>): request.Test;
}

/** A portal session for `partner` as the sign-in page makes one (only its token's hash is stored). */
export async function portalTestSession(api: ApiTestApp, partner: TestPartner): Promise<PortalTestSession> {
  const token = generatePortalToken(api.app.get(CredentialMac), 'portal-session');
  await api.dataSource.query(
    `INSERT INTO portal_sessions (id, token_hash, partner_id, expires_at) VALUES ($1, $2, $3, now() + interval '1 hour')`,
    [randomUUID(), hashPortalToken(token), partner.partnerUniqueId],
  );
  const cookie = `${PORTAL_SESSION_COOKIE}=${token}`;
  const csrf = csrfTokenFor(token);
  return {
    page: (path) => api.http.get(`/portal/${partner.partnerUniqueId}${path}`).set('Cookie', cookie),
    submit: (path, form) =>
      api.http
        .post(`/portal/${partner.partnerUniqueId}${path}`)
        .set('Cookie', cookie)
        .set('Sec-Fetch-Site', 'same-origin')
        .type('form')
        .send({ [CSRF_FIELD]: csrf, ...form }),
  };
}
