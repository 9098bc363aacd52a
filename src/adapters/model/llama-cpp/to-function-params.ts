import type { JsonSchema } from '../../../shared/json.js';

type Schema = Record<string, unknown>;

const primitiveTypes = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array']);

/**
 * Narrows a tool's JSON Schema to the subset node-llama-cpp turns into a generation grammar
 * (type, properties, required, items, enum, const, oneOf, $defs/$ref, string lengths and date
 * formats). Keywords the grammar cannot enforce (`minimum`, `pattern`, other formats…) are dropped:
 * the turn loop still validates the arguments against the full schema before running a tool.
 */
export function toFunctionParams(schema: JsonSchema): Schema {
  return convert(schema, true);
}

function convert(input: unknown, root = false): Schema {
  if (input === true || input === undefined || input === null || typeof input !== 'object') {
    return { type: ['string', 'number', 'boolean', 'null'] };
  }
  const schema = input as Schema;
  const out: Schema = {};
  if (typeof schema.description === 'string') out.description = schema.description;
  if (root && schema.$defs && typeof schema.$defs === 'object') {
    out.$defs = Object.fromEntries(Object.entries(schema.$defs as Schema).map(([name, value]) => [name, convert(value)]));
  }
  if (typeof schema.$ref === 'string' && schema.$ref.startsWith('#/$defs/')) return { ...out, $ref: schema.$ref };
  if ('const' in schema) return { ...out, const: schema.const };
  if (Array.isArray(schema.enum)) return { ...out, enum: schema.enum };
  const alternatives = (schema.oneOf ?? schema.anyOf) as unknown[] | undefined;
  if (Array.isArray(alternatives)) return { ...out, oneOf: alternatives.map((alternative) => convert(alternative)) };

  let type = schema.type;
  if (Array.isArray(type)) {
    const types = type.filter((entry): entry is string => typeof entry === 'string' && primitiveTypes.has(entry));
    if (types.some((entry) => entry === 'object' || entry === 'array')) {
      return { ...out, oneOf: types.map((entry) => convert({ ...schema, type: entry })) };
    }
    return { ...out, type: types.length > 0 ? types : 'string' };
  }
  if (type === undefined) type = schema.properties ? 'object' : schema.items ? 'array' : undefined;
  switch (type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Schema;
      out.type = 'object';
      out.properties = Object.fromEntries(Object.entries(properties).map(([name, value]) => [name, convert(value)]));
      if (Array.isArray(schema.required)) out.required = schema.required.filter((name) => typeof name === 'string' && name in properties);
      if (schema.additionalProperties === false || Object.keys(properties).length > 0) out.additionalProperties = false;
      else if (typeof schema.additionalProperties === 'object') out.additionalProperties = convert(schema.additionalProperties);
      return out;
    }
    case 'array':
      out.type = 'array';
      if (schema.items !== undefined) out.items = convert(schema.items);
      if (typeof schema.minItems === 'number') out.minItems = schema.minItems;
      if (typeof schema.maxItems === 'number') out.maxItems = schema.maxItems;
      return out;
    case 'string':
      out.type = 'string';
      if (['date-time', 'time', 'date'].includes(String(schema.format))) out.format = schema.format;
      if (typeof schema.minLength === 'number') out.minLength = schema.minLength;
      if (typeof schema.maxLength === 'number') out.maxLength = schema.maxLength;
      return out;
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      out.type = type;
      return out;
    default:
      return { ...out, type: ['string', 'number', 'boolean', 'null'] };
  }
}
