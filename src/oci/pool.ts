// Bounded concurrency: results in input order, work started in the order given by `priority`.

/**
 * Runs `fn` over `items` with at most `limit` calls in flight. Work starts in `order` (indices;
 * default input order), results come back in input order. The first failure stops new work and is
 * thrown once the calls in flight have settled.
 */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>, order?: number[]): Promise<R[]> {
  const queue = order ?? items.map((_, i) => i);
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < queue.length) {
      const i = queue[next++]!;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, queue.length)) }, worker));
  if (failure !== undefined) throw failure.err;
  return results;
}
