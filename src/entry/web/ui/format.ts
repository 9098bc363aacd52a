export const fixed = (value: number | null | undefined, digits = 3): string => (value === null || value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits));

export const percent = (value: number | null | undefined): string => (value === null || value === undefined ? '—' : `${Math.round(value * 100)}%`);

export const milliseconds = (value: number | null | undefined): string =>
  value === null || value === undefined ? '—' : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;

export const time = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');

export const shortId = (id: string | null | undefined): string => (id ? id.slice(0, 8) : '—');

export const json = (value: unknown): string => JSON.stringify(value, null, 2);
