/**
 * The value kept in `cache` for `key`, made by `make` the first time; a cache that reached `limit`
 * entries is emptied first (the keys a process sees are few — model names, prompts, capsule configs —
 * and one that sees many only loses the saving).
 */
export function memoized<K, V>(cache: Map<K, V>, key: K, limit: number, make: (key: K) => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    if (cache.size >= limit) cache.clear();
    cache.set(key, (value = make(key)));
  }
  return value;
}
