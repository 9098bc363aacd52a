import { describe, expect, it } from 'vitest';
import { toFunctionParams } from './to-function-params.js';

describe('toFunctionParams', () => {
  it('keeps what the grammar can enforce and drops the rest', () => {
    expect(
      toFunctionParams({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        properties: {
          expression: { type: 'string', pattern: '^[0-9]+$', maxLength: 200 },
          precision: { type: 'integer', minimum: 0 },
          unit: { enum: ['m', 'km'] },
          when: { type: 'string', format: 'date-time' },
          url: { type: 'string', format: 'uri' },
          tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
          nested: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        },
        required: ['expression', 'missing'],
      }),
    ).toEqual({
      type: 'object',
      properties: {
        expression: { type: 'string', maxLength: 200 },
        precision: { type: 'integer' },
        unit: { enum: ['m', 'km'] },
        when: { type: 'string', format: 'date-time' },
        url: { type: 'string' },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
        nested: { oneOf: [{ type: 'string' }, { type: 'null' }] },
      },
      required: ['expression'],
      additionalProperties: false,
    });
  });

  it('turns type lists with structured members into alternatives', () => {
    expect(toFunctionParams({ type: ['object', 'null'], properties: { a: { type: 'number' } } })).toEqual({
      oneOf: [{ type: 'object', properties: { a: { type: 'number' } }, additionalProperties: false }, { type: 'null' }],
    });
  });
});
