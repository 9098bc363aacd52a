import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  dash?: number[];
  /** Draw points only (no line). */
  points?: boolean;
}

export interface ChartMarker {
  /** Index into `x`. */
  index: number;
  label: string;
  color: string;
}

const palette = ['#5b5bd6', '#e5484d', '#30a46c', '#f76b15', '#0090ff', '#d6409f', '#8e4ec6', '#12a594', '#ad7f58', '#697177', '#ffc53d'];
export const seriesColor = (i: number): string => palette[i % palette.length]!;

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/**
 * A line chart (uPlot) that follows its container's width and the colour scheme. `onPick` makes
 * points clickable: it gets the index of the point under the cursor.
 */
export function Chart({ x, series, xLabel, yLabel, height = 260, yRange, markers = [], onPick, label, testId }: { x: number[]; series: ChartSeries[]; xLabel: string; yLabel: string; height?: number; yRange?: [number, number]; markers?: ChartMarker[]; onPick?: (index: number) => void; label: string; testId?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const pick = useRef(onPick);
  pick.current = onPick;
  // Redraw with the other palette when the colour scheme changes.
  const [scheme, setScheme] = useState(() => matchMedia('(prefers-color-scheme: dark)').matches);
  useEffect(() => {
    const query = matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => setScheme(query.matches);
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, []);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const axisColor = cssVar('--muted', '#666');
    const gridColor = cssVar('--grid', '#8883');
    const axis = (text: string, integers = false): uPlot.Axis => ({ label: text, stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 }, ...(integers ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] } : {}) });
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 280),
      height,
      scales: { x: { time: false }, y: yRange ? { range: yRange } : { auto: true } },
      axes: [axis(xLabel, true), axis(yLabel)],
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false }, points: { size: 9 } },
      series: [
        { label: xLabel },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          ...(s.dash ? { dash: s.dash } : {}),
          points: { show: true, size: s.points ? 7 : 5, fill: s.color },
          ...(s.points ? { paths: () => null } : {}),
        })),
      ],
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            for (const marker of markers) {
              const value = x[marker.index];
              if (value === undefined) continue;
              const left = Math.round(u.valToPos(value, 'x', true));
              ctx.save();
              ctx.strokeStyle = marker.color;
              ctx.setLineDash([4, 3]);
              ctx.lineWidth = 1.5 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(left, u.bbox.top);
              ctx.lineTo(left, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.fillStyle = marker.color;
              ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
              const width = ctx.measureText(marker.label).width;
              const rightSide = left + 3 * devicePixelRatio + width < u.bbox.left + u.bbox.width;
              ctx.fillText(marker.label, rightSide ? left + 3 * devicePixelRatio : left - 3 * devicePixelRatio - width, u.bbox.top + 12 * devicePixelRatio);
              ctx.restore();
            }
          },
        ],
        ready: [
          (u) => {
            // uPlot handles the mouse on its overlay itself (no click event reaches it): a press
            // and release at the same spot is a click on the point under the cursor.
            let down: { x: number; y: number } | null = null;
            u.over.addEventListener('mousedown', (e) => (down = { x: e.clientX, y: e.clientY }));
            u.over.addEventListener('mouseup', (e) => {
              const still = down !== null && Math.abs(e.clientX - down.x) < 5 && Math.abs(e.clientY - down.y) < 5;
              down = null;
              const index = u.cursor.idx;
              if (still && index !== null && index !== undefined && pick.current) pick.current(index);
            });
          },
        ],
      },
    };
    const plot = new uPlot(options, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, element);
    if (onPick) plot.over.style.cursor = 'pointer';
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 280), height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, series, xLabel, yLabel, height, yRange, markers, scheme]);

  return <div class="chart" ref={box} role="img" aria-label={label} data-testid={testId} />;
}
