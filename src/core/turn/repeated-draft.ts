/** Whitespace-normalised text, so formatting alone does not make a new draft. */
export function normaliseDraft(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** True when a non-empty draft equals one the turn already produced. */
export function isRepeatedDraft(previous: readonly string[], draft: string): boolean {
  const current = normaliseDraft(draft);
  if (current === '') return false;
  return previous.some((p) => normaliseDraft(p) === current);
}
