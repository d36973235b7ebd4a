import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The guard's Lua scripts (lua/*.lua, copied next to the built JavaScript by the worker's build).
 * hand-over.lua defines the function both scripts end with; it is prepended to each.
 */
export interface GuardScripts {
  admit: string;
  release: string;
}

function read(name: string): string {
  return readFileSync(join(__dirname, 'lua', name), 'utf8');
}

let loaded: GuardScripts | undefined;

/** Reads the scripts once per process. */
export function guardScripts(): GuardScripts {
  if (!loaded) {
    const handOver = read('hand-over.lua');
    loaded = { admit: `${handOver}\n${read('admit.lua')}`, release: `${handOver}\n${read('release.lua')}` };
  }
  return loaded;
}
