import { checkServices } from '../../config/src/service-preflight'; // global setup runs outside jest's module mapper
import { migrateDatabase } from '../../persistence/src/database-setup';
import { databaseUrlNamed, newRunId, serviceUrls, templateDatabaseName, TEST_RUN_VARIABLE } from './test-run';

/** Jest global setup: fail fast when a service is down, then migrate this run's template database. */
export default async function globalSetup(): Promise<void> {
  if (process.env[TEST_RUN_VARIABLE]) return; // a second project of the same run
  const unreachable = await checkServices(serviceUrls());
  if (unreachable.length > 0) {
    process.stderr.write(`\n${unreachable.join('\n')}\n`);
    process.exit(1);
  }
  const runId = newRunId();
  await migrateDatabase(databaseUrlNamed(templateDatabaseName(runId)));
  process.env[TEST_RUN_VARIABLE] = runId;
}
