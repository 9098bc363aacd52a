/** SVG plot of `bench:learning`: per world, the reward (moving average) and each weight over turns. */
import type { WeightRule } from '../src/core/learning/index.js';
import { weightNames, type Weights } from '../src/ports/learning.js';

const colors: Record<keyof Weights, string> = { alpha: '#3e63dd', beta: '#30a46c', gamma: '#f76b15', tau: '#8e4ec6', lambda: '#e5484d', mu: '#12a594', nu: '#ad7f58' };

export function writePlot(panels: { name: string; reward: number[]; weights: Weights[]; ranges: Record<keyof Weights, WeightRule> }[]): string {
  const width = 900;
  const panelHeight = 170;
  const left = 50;
  const plotWidth = width - left - 130;
  const parts: string[] = [];
  panels.forEach((panel, p) => {
    const top = 30 + p * (panelHeight + 40);
    const n = Math.max(2, panel.reward.length);
    const x = (i: number) => left + (i / (n - 1)) * plotWidth;
    const window = Math.max(1, Math.floor(n / 40));
    const smooth = panel.reward.map((_, i) => {
      const slice = panel.reward.slice(Math.max(0, i - window + 1), i + 1).filter(Number.isFinite);
      return slice.reduce((s, v) => s + v, 0) / Math.max(1, slice.length);
    });
    const lo = Math.min(...smooth.filter(Number.isFinite), 0);
    const hi = Math.max(...smooth.filter(Number.isFinite), 1.5);
    const yReward = (v: number) => top + panelHeight - ((v - lo) / (hi - lo || 1)) * panelHeight;
    parts.push(`<text x="${left}" y="${top - 8}" font-size="13" font-weight="bold">${panel.name}</text>`);
    parts.push(`<rect x="${left}" y="${top}" width="${plotWidth}" height="${panelHeight}" fill="none" stroke="#ccc"/>`);
    parts.push(`<polyline fill="none" stroke="#111" stroke-width="1.5" points="${smooth.map((v, i) => `${x(i).toFixed(1)},${yReward(v).toFixed(1)}`).join(' ')}"/>`);
    parts.push(`<text x="${left - 4}" y="${top + 10}" font-size="10" text-anchor="end">${hi.toFixed(2)}</text><text x="${left - 4}" y="${top + panelHeight}" font-size="10" text-anchor="end">${lo.toFixed(2)}</text>`);
    weightNames.forEach((name, k) => {
      const rule = panel.ranges[name];
      const y = (v: number) => top + panelHeight - ((v - rule.min) / (rule.max - rule.min)) * panelHeight;
      const points = panel.weights.map((w, i) => `${x(i).toFixed(1)},${y(w[name]).toFixed(1)}`).join(' ');
      parts.push(`<polyline fill="none" stroke="${colors[name]}" stroke-width="1" stroke-dasharray="4 2" points="${points}"/>`);
      parts.push(`<text x="${left + plotWidth + 8}" y="${top + 12 + k * 14}" font-size="11" fill="${colors[name]}">${name} (of its range)</text>`);
    });
    parts.push(`<text x="${left + plotWidth + 8}" y="${top + 12 + 7 * 14}" font-size="11" fill="#111">reward (moving avg)</text>`);
  });
  const height = 30 + panels.length * (panelHeight + 40);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>${parts.join('')}</svg>\n`;
}
