import { getEncoding, type Tiktoken } from 'js-tiktoken';

let encoder: Tiktoken | undefined;

/** Token count with the o200k_base BPE (js-tiktoken) — for models whose own tokenizer is not at hand. */
export function countTiktokenTokens(text: string): number {
  if (text === '') return 0;
  encoder ??= getEncoding('o200k_base');
  return encoder.encode(text, 'all').length;
}
