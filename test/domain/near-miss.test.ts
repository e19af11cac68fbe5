import { describe, expect, it } from 'vitest';
import { closestIds } from '../../src/domain/near-miss.js';

describe('closestIds, for a "did you mean …?"', () => {
  it('names the ids a few edits away, nearest first', () => {
    expect(closestIds('final-evalution', ['final-evaluation', 'first-evaluation', 'defense-pilot'])).toEqual(['final-evaluation', 'first-evaluation']);
  });

  it('names an id that begins with the whole of the one given and goes on with more words after those one edit away, before those further, shortest first', () => {
    const registered = ['lg-ai-research', 'lg-ai-research-lab', 'lg-aim', 'naver-cloud', 'lg-a'];

    expect(closestIds('lg-ai', registered)).toEqual(['lg-a', 'lg-aim', 'lg-ai-research']);
    expect(closestIds('naver', registered)).toEqual(['naver-cloud']);
    // Two edits away ("skt", "sk", "lg") come after it: "kt-cloud" is what a writer of "kt" meant.
    expect(closestIds('kt', ['skt', 'sk', 'lg', 'kt-cloud'])).toEqual(['skt', 'kt-cloud', 'lg']);
    // Not a word of it: "lg-aim" does not go on from "lg-ai" with a word.
    expect(closestIds('lg-ai-r', ['lg-ai-research'])).toEqual([]);
    expect(closestIds('x', ['x-ray'])).toEqual([]);
  });
});
