import { describe, expect, it } from 'vitest';
import { LogFollower } from '../../src/eventstore/follower.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A run that waits until released, counting how often it started; `head` is what it reaches. */
function gatedRun() {
  const state = { runs: 0, head: 0n, release: [] as (() => void)[] };
  const run = async () => {
    state.runs += 1;
    const reached = state.head;
    await new Promise<void>((resolve) => state.release.push(resolve));
    return reached;
  };
  const releaseAll = () => state.release.splice(0).forEach((release) => release());
  return { state, run, releaseAll };
}

describe('LogFollower (the loop both projectors follow the log with)', () => {
  it('callers in one process share a run; a caller that came during a run gets a run of its own after it', async () => {
    const { state, run, releaseAll } = gatedRun();
    const follower = new LogFollower({}, run, { pollMs: 1 });
    state.head = 5n;
    const first = follower.catchUp();
    const second = follower.catchUp(5n);
    await tick();
    expect(state.runs).toBe(1);
    // Appended after the run started: this caller must not be answered by it.
    state.head = 7n;
    const third = follower.catchUp();
    releaseAll();
    expect(await first).toBe(5n);
    expect(await second).toBe(5n);
    await tick();
    expect(state.runs).toBe(2);
    releaseAll();
    expect(await third).toBe(7n);
  });

  it('waits for a position the log does not show yet, without spinning', async () => {
    let runs = 0;
    let head = 1n;
    const follower = new LogFollower({}, async () => (runs += 1, head), { pollMs: 20 });
    const waiting = follower.catchUp(3n);
    await new Promise((resolve) => setTimeout(resolve, 70));
    expect(runs).toBeLessThan(10);
    head = 3n;
    expect(await waiting).toBe(3n);
  });

  it('follows until stop: failures back off and are reported, the first success after them too; a push wakes it at once', async () => {
    const errors: unknown[] = [];
    let recovered = 0;
    let runs = 0;
    let failing = true;
    let push: (() => void) | null = null;
    let unsubscribed = false;
    const events = {
      subscribe: (onAppend: () => void) => {
        push = onAppend;
        return () => void (unsubscribed = true);
      },
    };
    const follower = new LogFollower(
      events,
      async () => {
        runs += 1;
        if (failing) throw new Error('store down');
        return 1n;
      },
      { pollMs: 10_000, onError: (error) => errors.push(error), onRecovered: () => (recovered += 1) },
    );
    follower.start();
    follower.start(); // a second start is the same loop
    await tick();
    expect(runs).toBe(1);
    expect(errors).toHaveLength(1);
    failing = false;
    // The backoff after a failure is 2 s at most, whatever pollMs says; a push cuts it short.
    push!();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(runs).toBe(2);
    expect(recovered).toBe(1);
    // Now it polls every 10 s: only a push makes it run again.
    push!();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(runs).toBe(3);
    await follower.stop();
    expect(unsubscribed).toBe(true);
    push!();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(runs).toBe(3);
  });
});
