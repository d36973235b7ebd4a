import { ConfigError, loadConfig, type LoadedConfig } from './config';
import { loadDotenv } from './dotenv';
import { checkServices } from './service-preflight';

function fail(line: string): never {
  console.error(line);
  process.exit(1);
}

/**
 * The entry point of every process: reads `.env` and the environment once, stops with one clear
 * line when the configuration is invalid or PostgreSQL or Redis cannot be reached, then starts.
 */
export async function startService(name: string, start: (loaded: LoadedConfig) => Promise<void>): Promise<void> {
  loadDotenv();
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(`${name}: invalid configuration: ${error.message}`);
    throw error;
  }
  const unreachable = await checkServices(loaded.config);
  if (unreachable.length > 0) fail(unreachable.map((line) => `${name}: ${line}`).join('\n'));
  try {
    await start(loaded);
  } catch (error) {
    fail(`${name}: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }
}
