import { diffWordsWithSpace } from 'diff';

/** A word diff of two drafts: insertions and deletions marked (and announced) as such. */
export function DraftDiff({ before, after }: { before: string; after: string }) {
  const parts = diffWordsWithSpace(before, after);
  const changed = parts.some((p) => p.added || p.removed);
  return (
    <div class="draft diff" data-testid="draft-diff">
      {!changed ? <p class="muted">Same text as the previous draft.</p> : null}
      {parts.map((part, i) =>
        part.added ? (
          <ins key={i} aria-label={`added: ${part.value}`}>
            {part.value}
          </ins>
        ) : part.removed ? (
          <del key={i} aria-label={`removed: ${part.value}`}>
            {part.value}
          </del>
        ) : (
          <span key={i}>{part.value}</span>
        ),
      )}
    </div>
  );
}
