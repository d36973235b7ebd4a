import { ConfigError, loadConfig, type LoadedConfig } from './config';
import { loadDotenv } from './dotenv';
import { checkServices } from './service-preflight';

function fail(line: string): never {
  console.error(line);
  process.exit(1);
}

/** What a started process hands back so that a signal can stop it. */
export interface RunningService {
  close(): Promise<void>;
  /**
   * How long closing may take before the process exits anyway (code 1): past it, something it waits
   * for (a stalled PostgreSQL or Redis) is not coming back in time. None: closing may take as long as it takes.
   */
  closeDeadlineMs?: number;
}

/**
 * On SIGTERM or SIGINT: close (a worker finishes its deliveries, the API its requests), then exit 0;
 * past the service's closeDeadlineMs, exit 1 whatever it still waits for.
 * While closing, a SIGTERM changes nothing: it is a supervisor repeating itself, or `npm start`
 * passing on a Ctrl-C that the terminal already sent to the whole process group, children included.
 * A second SIGINT (Ctrl-C pressed again) exits at once. Only a second SIGINT counts: `npm start`'s
 * SIGTERM can arrive before the terminal's SIGINT on a busy machine, and that is still one Ctrl-C.
 */
function closeOnSignals(name: string, service: RunningService): void {
  let closing = false;
  let interrupted = false;
  const stop = (signal: NodeJS.Signals) => {
    if (signal === 'SIGINT') {
      if (interrupted) {
        console.error(`${name}: ${signal} again, exiting without waiting`);
        process.exit(1);
      }
      interrupted = true;
    }
    if (closing) return;
    closing = true;
    console.error(`${name}: ${signal}, closing: finishing the work in flight${signal === 'SIGINT' ? ' (Ctrl-C again exits at once)' : ''}`);
    if (service.closeDeadlineMs !== undefined) {
      const deadlineMs = service.closeDeadlineMs;
      setTimeout(() => {
        console.error(`${name}: still closing ${deadlineMs} ms after ${signal}; exiting anyway`);
        process.exit(1);
      }, deadlineMs).unref();
    }
    service.close().then(
      () => process.exit(0),
      (error: unknown) => fail(`${name}: error while shutting down: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * The entry point of every process: reads `.env` and the environment once, stops with one clear
 * line when the configuration is invalid or PostgreSQL or Redis cannot be reached, then starts.
 */
export async function startService(name: string, start: (loaded: LoadedConfig) => Promise<RunningService | void>): Promise<void> {
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
  let service: RunningService | void;
  try {
    service = await start(loaded);
  } catch (error) {
    fail(`${name}: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (service) closeOnSignals(name, service);
}
