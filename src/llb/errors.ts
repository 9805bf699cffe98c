// Error type for invalid LLB graphs and options; messages name the op, path or key.
export class LlbError extends Error {
  override name = 'LlbError';
}
