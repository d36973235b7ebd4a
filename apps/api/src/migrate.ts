import { startService } from '@callbacks/config';
import { migrateDatabase } from '@callbacks/persistence';

/** `npm run migrate`: creates the database if it is missing, then applies pending migrations. */
void startService('migrate', async ({ config }) => {
  const applied = await migrateDatabase(config.databaseUrl);
  console.log(applied.length > 0 ? `migrate: applied ${applied.join(', ')}` : 'migrate: the schema is up to date');
});
