import { createTestEnvironment, type TestEnvironment } from '@callbacks/testing';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../data-source';

/**
 * The entities describe the schema the migrations made: what TypeORM would change to make the
 * migrated database match them (it never does: synchronize is off) must be nothing, table by table.
 */
describe('entities (component: against the migrated schema)', () => {
  let environment: TestEnvironment;
  let dataSource: DataSource;

  beforeAll(async () => {
    environment = await createTestEnvironment();
    dataSource = createDataSource(environment.databaseUrl, 1);
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
    await environment.destroy();
  });

  it.each(['operator_events', 'idempotency_keys', 'audit_entries'])('%s: the entity matches the table exactly', async (table) => {
    const { upQueries } = await dataSource.driver.createSchemaBuilder().log();
    const changes = upQueries.map((query) => query.query).filter((sql) => sql.includes(`"${table}"`));
    expect(changes).toEqual([]);
  });
});
