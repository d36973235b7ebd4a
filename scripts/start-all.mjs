// `npm start`: runs the built API and one worker in the foreground with their logs on this
// terminal. Ctrl-C (or SIGTERM) stops both cleanly; if one exits on its own, the other is stopped too.
//
// Ctrl-C reaches the children directly: the terminal signals the whole foreground process group.
// They still get a SIGTERM from here (so that `kill -INT <this pid>` alone stops them too), which
// a closing app ignores; only a second Ctrl-C makes them exit without finishing their work.
// Exits 0 only when every child stopped cleanly.
import { spawn } from 'node:child_process';

// The worker's heap is bounded as in `npm run start:worker` (its working set is small; see README).
const processes = {
  api: ['dist/apps/api/apps/api/src/main.js'],
  worker: ['--max-old-space-size=128', '--max-semi-space-size=8', 'dist/apps/worker/apps/worker/src/main.js'],
};
// Past the worker's own deadline (DELIVERY_TIMEOUT_MS, at most 50 s, plus a 10 s margin).
const HARD_STOP_MS = 75_000;

const children = Object.entries(processes).map(([name, args]) => ({ name, child: spawn(process.execPath, args, { stdio: 'inherit' }) }));
let stopping = false;
let exitCode = 0;

function stopAll() {
  if (stopping) return;
  stopping = true;
  for (const { child } of children) if (child.exitCode === null) child.kill('SIGTERM');
  // A child that ignores the signal is not allowed to hang the terminal.
  setTimeout(() => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
  }, HARD_STOP_MS).unref();
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, stopAll);

let running = children.length;
for (const { name, child } of children) {
  child.on('exit', (code, signal) => {
    running -= 1;
    const how = signal ?? `code ${code}`;
    if (!stopping) {
      console.error(`${name} exited (${how}); stopping the others`);
      exitCode = 1;
      stopAll();
    } else {
      console.error(`${name} stopped (${how})`);
      if (code !== 0) exitCode = 1;
    }
    if (running === 0) process.exit(exitCode);
  });
}
