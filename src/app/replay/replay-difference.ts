/** One field of one iteration that replay did not reproduce. */
export interface ReplayDifference {
  iteration: number | 'turn';
  field: string;
  recorded: unknown;
  replayed: unknown;
}
