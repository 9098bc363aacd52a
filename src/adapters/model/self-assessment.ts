/**
 * The refine instruction (written by the turn loop) asks the model to end its answer with a line
 * `CONFIDENCE: <0..1>` and a line `FINAL` when it considers the answer final. Real adapters parse
 * those marker lines out of the completion: they are not part of the draft shown to users.
 */

export interface SelfAssessment {
  /** The completion without the marker lines. */
  text: string;
  /** The verbalised confidence in [0,1], or null when the model gave none (or an unreadable one). */
  confidence: number | null;
  /** The model declared its answer final. */
  final: boolean;
}

// `CONFIDENCE: 0.8`, `**Confidence**: 80%`, `confidence = .9 FINAL`
const confidenceLine = /^[\s*_#>-]*confidence[\s*_]*[:=][\s*_]*(\d+(?:\.\d+)?|\.\d+)\s*(%?)[\s*_.]*(final)?[\s*_.!]*$/i;
// `FINAL`, `**FINAL**`, `FINAL.`
const finalLine = /^[\s*_#>-]*final[\s*_.!]*$/i;

function readConfidence(value: string, percent: string): number | null {
  const number = Number(value);
  if (!Number.isFinite(number)) return null;
  if (percent === '%') return number <= 100 ? number / 100 : null;
  if (number <= 1) return number;
  // `CONFIDENCE: 85` is a percentage written without the sign.
  if (number <= 100) return number / 100;
  return null;
}

/** Splits a completion into the draft text and the model's self-assessment markers. */
export function parseSelfAssessment(text: string): SelfAssessment {
  let confidence: number | null = null;
  let final = false;
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    const confidenceMatch = confidenceLine.exec(line);
    if (confidenceMatch) {
      confidence = readConfidence(confidenceMatch[1] ?? '', confidenceMatch[2] ?? '');
      if (confidenceMatch[3]) final = true;
      continue;
    }
    if (finalLine.test(line)) {
      final = true;
      continue;
    }
    kept.push(line);
  }
  return { text: kept.join('\n').trim(), confidence, final };
}

const isMarker = (line: string): boolean => confidenceLine.test(line) || finalLine.test(line);

/** True when `partial` (the start of a line still being streamed) may still become a marker line. */
function mayBecomeMarker(partial: string): boolean {
  const letters = partial.replace(/^[\s*_#>-]*/, '').toLowerCase();
  if ('confidence'.startsWith(letters) || 'final'.startsWith(letters)) return true;
  return /^final[\s*_.!]*$/.test(letters) || /^confidence[\s*_]*([:=][\s\d.%*_!final]*)?$/.test(letters);
}

/**
 * A streaming filter that holds back the start of a line while it may still be a marker line, so
 * the streamed deltas never show the markers that {@link parseSelfAssessment} removes.
 * `push` returns the text that can be shown now; `flush` returns what is left at the end.
 */
export function createMarkerFilter(): { push(delta: string): string; flush(): string } {
  let pending = '';
  let lineShown = false;
  return {
    push(delta: string): string {
      let out = '';
      let rest = delta;
      while (rest.length > 0) {
        const newline = rest.indexOf('\n');
        const piece = newline === -1 ? rest : rest.slice(0, newline);
        rest = newline === -1 ? '' : rest.slice(newline + 1);
        if (lineShown) out += piece;
        else {
          pending += piece;
          if (!mayBecomeMarker(pending)) {
            out += pending;
            pending = '';
            lineShown = true;
          }
        }
        if (newline !== -1) {
          if (lineShown) out += '\n';
          else if (!isMarker(pending)) out += `${pending}\n`;
          pending = '';
          lineShown = false;
        }
      }
      return out;
    },
    flush(): string {
      const line = pending;
      pending = '';
      lineShown = false;
      return isMarker(line) ? '' : line;
    },
  };
}
