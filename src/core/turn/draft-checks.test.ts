import { describe, expect, it } from 'vitest';
import { convergenceScore, decideExit, draftDefects, isPromptEcho, numbersIn, numericResultsOf, toolsOffered, type ExitInput } from './index.js';

const systemPrompt = 'You are Soma, a helpful assistant. Answer briefly and accurately, in one short sentence.';
const check = (over: Partial<Parameters<typeof draftDefects>[0]>) =>
  draftDefects({ text: 'The capital of France is Paris.', finishReason: 'stop', toolCallsPending: false, systemPrompt, userMessage: 'What is the capital of France?', numericToolResults: [], ...over });

describe('draftDefects', () => {
  it('passes a complete answer that restates the question', () => {
    expect(check({})).toEqual([]);
  });
  it('flags a draft cut off by the output limit', () => {
    expect(check({ finishReason: 'length' })).toEqual(['truncated']);
  });
  it('flags a draft that repeats the user message or copies the system prompt', () => {
    expect(check({ text: 'What is the capital of France?' })).toEqual(['echo']);
    expect(check({ text: 'What is the capital of France? What is the capital of France? What' })).toEqual(['echo']);
    expect(check({ text: 'I am here. You are Soma, a helpful assistant. Answer briefly and accurately, in one short sentence. Paris' })).toEqual(['echo']);
    expect(isPromptEcho('Paris.', { systemPrompt, userMessage: 'What is the capital of France?' })).toBe(false);
  });
  it('flags an empty draft unless it asked for tools', () => {
    expect(check({ text: '  ' })).toEqual(['empty']);
    expect(check({ text: '', toolCallsPending: true })).toEqual([]);
    expect(check({ text: '', toolCallsPending: true, finishReason: 'length' })).toEqual(['truncated']);
  });
  it('flags a draft that ignores the numeric result of a tool it was given', () => {
    expect(check({ userMessage: 'What is 123*456?', text: 'The answer is 5192.', numericToolResults: [56088] })).toEqual(['tool_result_unused']);
    expect(check({ userMessage: 'What is 123*456?', text: '123 × 456 = 56,088.', numericToolResults: [56088] })).toEqual([]);
    expect(check({ userMessage: 'What is 1/3?', text: 'It is about 0.33.', numericToolResults: [1 / 3] })).toEqual([]);
  });
  it('reads numbers with thousands separators and numeric tool results in their shapes', () => {
    expect(numbersIn('56,088 and -3.5 and 7')).toEqual([56088, -3.5, 7]);
    expect(numericResultsOf([{ ok: true, result: { result: 42 } }, { ok: true, result: '7' }, { ok: false, result: 3 }, { ok: true, result: { result: 'a matrix' } }])).toEqual([42, 7]);
  });
});

describe('no false convergence (SPEC §13.3)', () => {
  const base: ExitInput = { iteration: 1, minIterations: 1, maxIterations: 10, threshold: 0.55, scores: [0.5, 0.99], final: false, toolCallsPending: false, loopDetected: false, budgetExhausted: false };
  it('a cut-off or echoing draft scores 0 and neither converges nor completes, whatever its confidence', () => {
    expect(convergenceScore({ confidence: 0.997, stability: 1, toolSuccessRate: 1, toolCallsPending: false, defective: true })).toBe(0);
    expect(decideExit({ ...base, scores: [0.5, 1], defective: true })).toBe('continue');
    expect(decideExit({ ...base, scores: [0.5, 1], final: true, defective: true })).toBe('continue');
  });
  it('a repeated draft exits loop_detected unless its confidence alone passes the threshold', () => {
    expect(decideExit({ ...base, repeatedDraft: true, confidence: 0.5 })).toBe('loop_detected');
    expect(decideExit({ ...base, repeatedDraft: true, confidence: null })).toBe('loop_detected');
    expect(decideExit({ ...base, repeatedDraft: true, confidence: 0.6 })).toBe('converged');
    expect(decideExit({ ...base, repeatedDraft: true, confidence: 0.99, defective: true })).toBe('loop_detected');
    expect(decideExit({ ...base, repeatedDraft: true, confidence: 0.1, minIterations: 3 })).toBe('continue');
  });
  it('offers no tools on the last iteration (a single-shot turn answers in text)', () => {
    expect(toolsOffered({ iteration: 0, maxIterations: 1, degraded: false })).toBe(false);
    expect(toolsOffered({ iteration: 0, maxIterations: 3, degraded: false })).toBe(true);
    expect(toolsOffered({ iteration: 2, maxIterations: 3, degraded: false })).toBe(false);
    expect(toolsOffered({ iteration: 0, maxIterations: 3, degraded: true })).toBe(false);
  });
});
