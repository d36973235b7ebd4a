import { Batcher } from './batcher';

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
});
