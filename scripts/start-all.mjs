// `npm start`: runs the built API and one worker in the foreground with their logs on this
// terminal. Ctrl-C (or SIGTERM) stops both cleanly; if one exits on its own, the other is stopped too.
import { spawn } from 'node:child_process';

// The worker's heap is bounded as in `npm run start:worker` (its working set is small; see README).
const processes = {
  api: ['dist/apps/api/apps/api/src/main.js'],
  worker: ['--max-old-space-size=128', 'dist/apps/worker/apps/worker/src/main.js'],
};

const children = Object.entries(processes).map(([name, args]) => ({ name, child: spawn(process.execPath, args, { stdio: 'inherit' }) }));
let stopping = false;
let exitCode = 0;

function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  for (const { child } of children) if (child.exitCode === null) child.kill(signal);
  // A child that ignores the signal is not allowed to hang the terminal.
  setTimeout(() => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
  }, 30_000).unref();
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll('SIGTERM'));

let running = children.length;
for (const { name, child } of children) {
  child.on('exit', (code, signal) => {
    running -= 1;
    if (!stopping) {
      console.error(`${name} exited (${signal ?? `code ${code}`}); stopping the others`);
      exitCode = code || 1;
      stopAll('SIGTERM');
    }
    if (running === 0) process.exit(exitCode);
  });
}
