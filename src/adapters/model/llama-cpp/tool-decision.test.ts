import { describe, expect, it } from 'vitest';
import type { ToolDefinition } from '../../../ports/chat-model.js';
import fc from 'fast-check';
import { couldBeGrounded, decisionPrompt, decisionSchema, isGrounded, parseDecision } from './tool-decision.js';

const calculator: ToolDefinition = {
  name: 'calculator',
  description: 'Evaluates an arithmetic expression.',
  inputSchema: { type: 'object', properties: { expression: { type: 'string', pattern: '^.+$' } }, required: ['expression'] },
  examples: [
    { request: 'What is 31 * 47?', args: { expression: '31*47' } },
    { request: 'What is 20% of 350?', args: { expression: '0.20*350' } },
  ],
};
const clock: ToolDefinition = { name: 'current_time', description: 'The current time in a time zone.', inputSchema: { type: 'object', properties: { timezone: { type: 'string' } } } };

describe('the tool decision step', () => {
  it('lists each tool with how to call it and alternates its examples with no-tool examples', () => {
    const prompt = decisionPrompt([calculator, clock]);
    expect(prompt.system).toContain('- calculator: Evaluates an arithmetic expression. Call it as {"tool": "calculator", "args": {"expression": "<expression>"}}.');
    expect(prompt.system).toContain('- current_time:');
    expect(prompt.shots.slice(0, 4)).toEqual([
      { user: 'What is 31 * 47?', answer: '{"tool": "calculator", "args": {"expression": "31*47"}}' },
      { user: 'Who wrote Pride and Prejudice?', answer: '{"tool": null}' },
      { user: 'What is 20% of 350?', answer: '{"tool": "calculator", "args": {"expression": "0.20*350"}}' },
      { user: 'What is the capital of Peru?', answer: '{"tool": null}' },
    ]);
    expect(prompt.shots).toHaveLength(6);
  });
  it('constrains the answer to one call per tool (arguments narrowed for the grammar) or null', () => {
    const schema = decisionSchema([calculator]) as { oneOf: Record<string, unknown>[] };
    expect(schema.oneOf).toHaveLength(2);
    expect(schema.oneOf[0]).toEqual({ type: 'object', properties: { tool: { const: 'calculator' }, args: { type: 'object', properties: { expression: { type: 'string', maxLength: 120 } }, required: ['expression'], additionalProperties: false } }, required: ['tool', 'args'] });
    expect(schema.oneOf[1]).toEqual({ type: 'object', properties: { tool: { type: 'null' } }, required: ['tool'] });
  });
  it('keeps a call only when its numbers come from the question', () => {
    expect(isGrounded({ tool: 'calculator', args: { expression: '123*456' } }, 'What is 123 * 456?', calculator)).toBe(true);
    expect(isGrounded({ tool: 'calculator', args: { expression: '0.15*260' } }, 'What is 15% of 260?', calculator)).toBe(true);
    expect(isGrounded({ tool: 'calculator', args: { expression: '1250+875' } }, 'It sold 1,250 apples and 875 pears.', calculator)).toBe(true);
    // A copied example, an answer pasted into the expression, a call without numbers where every example has them:
    expect(isGrounded({ tool: 'calculator', args: { expression: '31*47' } }, 'Who painted the Mona Lisa?', calculator)).toBe(false);
    expect(isGrounded({ tool: 'calculator', args: { expression: '14*3 = 42' } }, 'How much do 14 pens at 3 dollars cost?', calculator)).toBe(false);
    expect(isGrounded({ tool: 'calculator', args: { expression: 'Paris' } }, 'What is the capital of France?', calculator)).toBe(false);
    // A tool whose examples need no number.
    expect(isGrounded({ tool: 'current_time', args: { timezone: 'Europe/Paris' } }, 'What time is it in Paris?', clock)).toBe(true);
  });
  it('is skipped only where its call would be dropped: no grounded call exists for the question', () => {
    expect(couldBeGrounded('What is the capital of France?', calculator)).toBe(false);
    expect(couldBeGrounded('What is 6*7?', calculator)).toBe(true);
    expect(couldBeGrounded('What time is it in Paris?', clock)).toBe(true);
    fc.assert(
      fc.property(fc.string(), fc.oneof(fc.string(), fc.stringMatching(/^[0-9.+*/ -]{1,12}$/)), (question, expression) => {
        if (!couldBeGrounded(question, calculator)) expect(isGrounded({ tool: 'calculator', args: { expression } }, question, calculator)).toBe(false);
      }),
    );
  });
  it('reads the decision JSON, and treats anything else as no tool', () => {
    expect(parseDecision('{"tool": "calculator", "args": {"expression": "6*7"}}', [calculator])).toEqual({ tool: 'calculator', args: { expression: '6*7' } });
    expect(parseDecision('{"tool": null}', [calculator])).toEqual({ tool: null });
    expect(parseDecision('{"tool": "rm", "args": {}}', [calculator])).toEqual({ tool: null });
    expect(parseDecision('nonsense', [calculator])).toEqual({ tool: null });
    // A guessed result after the expression is cut off (the examples have none).
    expect(parseDecision('{"tool": "calculator", "args": {"expression": "144 / 12 = 12.5 meters"}}', [calculator])).toEqual({ tool: 'calculator', args: { expression: '144 / 12' } });
    expect(parseDecision('{"tool": "calculator", "args": {"expression": "x = 3 + y"}}', [calculator])).toEqual({ tool: 'calculator', args: { expression: 'x = 3 + y' } });
  });
});
