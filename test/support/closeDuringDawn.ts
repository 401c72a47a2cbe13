// Closes trainer workers while Dawn works for them: each worker is kept asking for the backends' statuses
// (a fresh adapter each time) and is closed at a different moment. Run as a child process by
// webgpu.test.ts, since what it guards against is the whole process aborting. Prints "closed N" at the end.
import { TrainerClient } from '@core/trainer/client';

const rounds = Number(process.argv[2] ?? 10);
for (let round = 0; round < rounds; round++) {
  const trainer = new TrainerClient();
  let open = true;
  const asking = (async () => {
    while (open) await trainer.request('backends', {}).catch(() => undefined);
  })();
  // Spread over the worker's start-up and its first answers.
  await new Promise((done) => setTimeout(done, 800 + round * 170));
  open = false;
  await trainer.close();
  await asking;
}
console.log(`closed ${rounds}`);
