import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The guard's Lua scripts (lua/*.lua, copied next to the built JavaScript by the worker's build).
 * hand-over.lua defines the functions the guard's scripts share; it is prepended to each of them.
 */
export interface GuardScripts {
  admit: string;
  release: string;
  findLostWakes: string;
  /** Takes one of a callback's ratePerSecond starts right before an attempt is sent. */
  startAttempt: string;
  /** Not a guard script: moves a woken job to the front of its queue (keys of the job's queue). */
  wakeToFront: string;
}

function read(name: string): string {
  return readFileSync(join(__dirname, 'lua', name), 'utf8');
}

let loaded: GuardScripts | undefined;

/** Reads the scripts once per process. */
export function guardScripts(): GuardScripts {
  if (!loaded) {
    const handOver = read('hand-over.lua');
    loaded = {
      admit: `${handOver}\n${read('admit.lua')}`,
      release: `${handOver}\n${read('release.lua')}`,
      findLostWakes: `${handOver}\n${read('find-lost-wakes.lua')}`,
      startAttempt: read('start-attempt.lua'),
      wakeToFront: read('wake-to-front.lua'),
    };
  }
  return loaded;
}
