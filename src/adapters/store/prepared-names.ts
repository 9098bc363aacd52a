import type pg from 'pg';

/**
 * Names for the statements a process sends again and again, so node-postgres prepares each such text
 * once per connection and PostgreSQL parses and plans it once instead of on every call (a turn's
 * statements are the same few texts; their parameters travel apart). A text is named the second time
 * it is seen, so one-off statements (migrations, DDL) never take a name; at most `limit` texts are
 * named and keep their name, so a connection holds at most `limit` prepared statements.
 */
export class PreparedNames {
  private readonly seen = new Set<string>();
  private readonly names = new Map<string, string>();
  constructor(private readonly limit = 256) {}

  /** The name of `text`: given on its second sight while there is room, then always the same. */
  nameOf(text: string): string | undefined {
    const known = this.names.get(text);
    if (known !== undefined || this.names.size >= this.limit) return known;
    if (!this.seen.has(text)) {
      if (this.seen.size < this.limit * 4) this.seen.add(text);
      return undefined;
    }
    this.seen.delete(text);
    const name = `soma_${this.names.size}`;
    this.names.set(text, name);
    return name;
  }

  /** Makes the query configs of `client` (objects with `text`, as Drizzle sends them) named ones. */
  attach(client: pg.PoolClient): void {
    // The prototype's query is looked up on each call, so whatever wraps pg's Client later still sees every query.
    const query = (...args: unknown[]): unknown => (Object.getPrototypeOf(client) as { query: (...a: unknown[]) => unknown }).query.apply(client, args);
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (config: unknown, ...rest: unknown[]) => {
      if (isUnnamedConfig(config)) {
        const name = this.nameOf(config.text);
        if (name !== undefined) return query({ ...config, name }, ...rest);
      }
      return query(config, ...rest);
    };
  }
}

function isUnnamedConfig(config: unknown): config is { text: string; name?: undefined } {
  if (!config || typeof config !== 'object' || 'submit' in config) return false;
  const { text, name } = config as { text?: unknown; name?: unknown };
  return typeof text === 'string' && !name;
}
