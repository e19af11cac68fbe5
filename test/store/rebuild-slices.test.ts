import { describe, expect, it } from 'vitest';
import { slicesBetweenAppends } from '../../src/store/read-model-rebuild.js';

const rows = (txs: string) => [...txs].map((tx, i) => ({ id: `e${i}`, tx }));
const shape = (slices: { tx: string }[][]) => slices.map((s) => s.map((r) => r.tx).join(''));

describe('slicesBetweenAppends', () => {
  it('cuts at about the size, only where every append begun before the cut has ended', () => {
    expect(shape(slicesBetweenAppends(rows('aabbccdd'), 2))).toEqual(['aa', 'bb', 'cc', 'dd']);
    // Two appends interleaved in position order stay in one slice, however small the size.
    expect(shape(slicesBetweenAppends(rows('ababcc'), 1))).toEqual(['abab', 'cc']);
    expect(shape(slicesBetweenAppends(rows('aaaab'), 2))).toEqual(['aaaa', 'b']);
    expect(slicesBetweenAppends([], 5)).toEqual([]);
  });

  it('keeps every event once, in order', () => {
    const input = rows('abacbdcedfef');
    expect(slicesBetweenAppends(input, 3).flat()).toEqual(input);
  });
});
