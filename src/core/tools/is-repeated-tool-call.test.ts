import { describe, expect, it } from 'vitest';
import { isRepeatedToolCall } from './is-repeated-tool-call.js';

describe('isRepeatedToolCall', () => {
  const history = [
    { name: 'calculator', args: { expression: '6*7' } },
    { name: 'http_fetch', args: { url: 'http://a.example/', options: { b: 1, a: 2 } } },
  ];

  it('detects the same tool with equal arguments, whatever the key order', () => {
    expect(isRepeatedToolCall(history, { name: 'calculator', args: { expression: '6*7' } })).toBe(true);
    expect(isRepeatedToolCall(history, { name: 'http_fetch', args: { options: { a: 2, b: 1 }, url: 'http://a.example/' } })).toBe(true);
  });

  it('does not flag other arguments or another tool with the same arguments', () => {
    expect(isRepeatedToolCall(history, { name: 'calculator', args: { expression: '6*8' } })).toBe(false);
    expect(isRepeatedToolCall(history, { name: 'current_time', args: { expression: '6*7' } })).toBe(false);
    expect(isRepeatedToolCall([], { name: 'calculator', args: {} })).toBe(false);
  });

  it('treats missing arguments as equal to each other', () => {
    expect(isRepeatedToolCall([{ name: 'current_time', args: undefined }], { name: 'current_time', args: undefined })).toBe(true);
  });
});
