import { describe, expect, it } from 'vitest';
import { CommitProgress } from '../../pipeline/runtime/commit-progress.js';

/** Whether `p` has resolved after the microtasks and timers queued so far ran. */
async function isDone(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 0));
  return done;
}

function producer() {
  let release: () => void = () => undefined;
  let inFlight = false;
  return {
    begin() {
      inFlight = true;
    },
    end() {
      inFlight = false;
      release();
    },
    settled: () => (inFlight ? new Promise<void>((r) => (release = r)) : Promise.resolve()),
  };
}

describe('CommitProgress.settled (the wait before a restore)', () => {
  it('waits for every prepared batch to commit, then for the transaction in flight', async () => {
    const progress = new CommitProgress(() => undefined);
    const p = producer();
    progress.preparedUpTo(3);
    p.begin();
    const wait = progress.settled(p, 60_000);
    expect(await isDone(wait)).toBe(false);
    progress.committedUpTo(2);
    expect(await isDone(wait)).toBe(false);
    progress.committedUpTo(3);
    expect(await isDone(wait)).toBe(false);
    p.end();
    expect(await isDone(wait)).toBe(true);
  });

  it('never waits for batches not prepared yet (they wait for the restore)', async () => {
    const progress = new CommitProgress(() => undefined);
    progress.preparedUpTo(1);
    progress.committedUpTo(1);
    // Batches 2..9 are emitted but wait for the restore in prepare: no deadlock.
    expect(await isDone(progress.settled(producer(), 60_000))).toBe(true);
  });

  it('gives up after maxMs with a warning rather than holding the restore forever', async () => {
    const late: number[] = [];
    const progress = new CommitProgress((seq) => late.push(seq));
    progress.preparedUpTo(5);
    const p = producer();
    p.begin();
    await progress.settled(p, 20);
    expect(late).toEqual([5]);
  });
});
