/** `value` limited to `[min, max]` (min wins if the bounds cross). */
export function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}
