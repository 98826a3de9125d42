/** A view that holds claimable tokens: `Monitor/todo` by default. */
export interface ViewRef {
  design: string;
  view: string;
  /** Only rows with this key (e.g. a view keyed by a token field). */
  key?: unknown;
}

export const DEFAULT_VIEW: ViewRef = { design: 'Monitor', view: 'todo' };
