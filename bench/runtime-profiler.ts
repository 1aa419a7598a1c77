/**
 * Loaded into a Node execution environment by `run.js --profile` (through the function's NODE_OPTIONS
 * variable, `--import`): the first SIGUSR2 starts a CPU profile, the second writes it to
 * $BENCH_PROFILE_DIR/runtime-<pid>.cpuprofile. Nothing happens unless BENCH_PROFILE_DIR is set.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 1000 }, () => session.post('Profiler.start')),
      );
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(`${dir}/runtime-${process.pid}.cpuprofile`, JSON.stringify(result.profile));
    });
  });
}
