/**
 * One queue per key: `serial(key, work)` runs `work` after every earlier work of that key has settled
 * (whether it resolved or rejected), and answers what `work` answers. A key's queue is forgotten once
 * it is empty.
 */
export function keyedSerial(): <T>(key: string, work: () => Promise<T>) => Promise<T> {
  const queues = new Map<string, Promise<unknown>>();
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const run = (queues.get(key) ?? Promise.resolve()).then(work, work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return run;
  };
}
