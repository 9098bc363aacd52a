import { describe, expect, it } from 'vitest';
import { createMarkerFilter, parseSelfAssessment } from './self-assessment.js';

describe('parseSelfAssessment', () => {
  it('takes the confidence line and FINAL out of the text', () => {
    expect(parseSelfAssessment('The answer is 42.\nCONFIDENCE: 0.85\nFINAL')).toEqual({ text: 'The answer is 42.', confidence: 0.85, final: true });
  });

  it('reads percentages, markdown emphasis and FINAL on the confidence line', () => {
    expect(parseSelfAssessment('Draft.\n**Confidence:** 70%')).toEqual({ text: 'Draft.', confidence: 0.7, final: false });
    expect(parseSelfAssessment('Draft.\nconfidence = .9 FINAL')).toEqual({ text: 'Draft.', confidence: 0.9, final: true });
    expect(parseSelfAssessment('Draft.\nCONFIDENCE: 85')).toMatchObject({ confidence: 0.85 });
  });

  it('gives null without a readable confidence and keeps prose that merely mentions the words', () => {
    expect(parseSelfAssessment('My final answer: I have confidence in it.')).toEqual({ text: 'My final answer: I have confidence in it.', confidence: null, final: false });
    expect(parseSelfAssessment('x\nCONFIDENCE: 250')).toEqual({ text: 'x', confidence: null, final: false });
  });
});

describe('createMarkerFilter', () => {
  it('streams the same text the parser keeps, however the deltas are cut', () => {
    const completion = 'First line.\nConfident people ask.\nCONFIDENCE: 0.6\nFINAL';
    for (const size of [1, 2, 3, 7, 100]) {
      const filter = createMarkerFilter();
      let shown = '';
      for (let index = 0; index < completion.length; index += size) shown += filter.push(completion.slice(index, index + size));
      shown += filter.flush();
      expect(shown.trim()).toBe(parseSelfAssessment(completion).text);
    }
  });

  it('does not hold back ordinary text', () => {
    const filter = createMarkerFilter();
    expect(filter.push('Hello')).toBe('Hello');
    expect(filter.push(' world')).toBe(' world');
    expect(filter.push('\nFin')).toBe('\n');
    expect(filter.push('ally.')).toBe('Finally.');
  });
});
