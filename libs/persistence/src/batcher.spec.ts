import { Batcher, Budget, BudgetExhausted } from './batcher';

describe('Batcher', () => {
  it('runs calls made in one turn as one batch, in order', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher(async (inputs: number[]) => {
      batches.push(inputs);
      return inputs.map((n) => n * 2);
    });
    expect(await Promise.all([1, 2, 3].map((n) => batcher.submit(n)))).toEqual([2, 4, 6]);
    expect(await batcher.submit(4)).toBe(8);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('splits at maxBatch and rejects every call of a failed batch', async () => {
    const sizes: number[] = [];
    const batcher = new Batcher(
      async (inputs: number[]) => {
        sizes.push(inputs.length);
        if (inputs.includes(13)) throw new Error('unlucky');
        return inputs;
      },
      { maxBatch: 2 },
    );
    const results = await Promise.allSettled([1, 2, 13, 4, 5].map((n) => batcher.submit(n)));
    expect(sizes).toEqual([2, 2, 1]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
  });

  it('with maxInFlight, calls made while batches run wait and share the next one', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const batcher = new Batcher(
      async (inputs: number[]) => {
        batches.push(inputs);
        if (inputs[0] === 1) await new Promise<void>((resolve) => (release = resolve));
        return inputs;
      },
      { maxInFlight: 1 },
    );
    const first = batcher.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = [2, 3, 4].map((n) => batcher.submit(n));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1]]);
    release();
    expect(await Promise.all([first, ...waiting])).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('with a budget, refuses calls beyond its count or bytes at once, and frees it as calls are answered', async () => {
    let release: () => void = () => undefined;
    const budget = new Budget(3, 10);
    const batcher = new Batcher(
      async (inputs: string[]) => {
        await new Promise<void>((resolve) => (release = resolve));
        return inputs;
      },
      { maxInFlight: 1, budget, sizeOf: (input) => input.length },
    );
    const held = [batcher.submit('aaaa'), batcher.submit('bbbb')];
    await expect(batcher.submit('ccc')).rejects.toEqual(new BudgetExhausted('bytes'));
    const third = batcher.submit('cc');
    await expect(batcher.submit('d')).rejects.toEqual(new BudgetExhausted('count'));
    expect(budget.held).toEqual({ count: 3, bytes: 10 });
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await Promise.all(held)).toEqual(['aaaa', 'bbbb']);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await third).toBe('cc');
    expect(budget.held).toEqual({ count: 0, bytes: 0 });
  });

  it('an aborted call that still waits for a batch is taken out and never runs; a running one is left alone', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const budget = new Budget(10, 100);
    const batcher = new Batcher(
      async (inputs: number[]) => {
        batches.push(inputs);
        await new Promise<void>((resolve) => (release = resolve));
        return inputs;
      },
      { maxInFlight: 1, budget },
    );
    const running = new AbortController();
    const first = batcher.submit(1, running.signal);
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = new AbortController();
    const second = batcher.submit(2, waiting.signal);
    const third = batcher.submit(3);
    waiting.abort(new Error('deadline'));
    running.abort(new Error('deadline'));
    await expect(second).rejects.toThrow('deadline');
    expect(budget.held.count).toBe(2);
    release();
    expect(await first).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await third).toBe(3);
    expect(batches).toEqual([[1], [3]]);
    expect(budget.held.count).toBe(0);
  });
});
