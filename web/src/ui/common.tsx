import type { ComponentChildren } from 'preact';

export function ErrorNote({ error, label }: { error: unknown; label?: string }) {
  if (!error) return null;
  const e = error as { name?: string; message?: string };
  return (
    <p class="error" role="alert">
      {label && <strong>{label}: </strong>}
      {e.name && e.name !== 'Error' && <code>{e.name}</code>} {e.message ?? 'Something went wrong.'}
    </p>
  );
}

export function Section({
  title,
  children,
  actions,
  id,
  wide,
}: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
  id?: string;
  /** Spans the whole row of the page's grid. */
  wide?: boolean;
}) {
  return (
    <section class={wide ? 'card wide' : 'card'} aria-labelledby={id ? `${id}-title` : undefined} id={id}>
      <header class="card-head">
        <h2 id={id ? `${id}-title` : undefined}>{title}</h2>
        {actions && <div class="actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

const STATUS_CLASS: Record<string, string> = {
  Succeeded: 'ok',
  OK: 'ok',
  Active: 'ok',
  InProgress: 'busy',
  Created: 'busy',
  Pending: 'idle',
  Skipped: 'idle',
  INSUFFICIENT_DATA: 'idle',
  Failed: 'bad',
  Stopped: 'bad',
  ALARM: 'bad',
  // Stacks
  CREATE_COMPLETE: 'ok',
  UPDATE_COMPLETE: 'ok',
  CREATE_IN_PROGRESS: 'busy',
  UPDATE_IN_PROGRESS: 'busy',
  UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: 'busy',
  ROLLBACK_IN_PROGRESS: 'bad',
  UPDATE_ROLLBACK_IN_PROGRESS: 'bad',
  ROLLBACK_COMPLETE: 'bad',
  UPDATE_ROLLBACK_COMPLETE: 'bad',
  DELETE_IN_PROGRESS: 'busy',
};

export function Status({ value }: { value: string }) {
  return <span class={`status status-${STATUS_CLASS[value] ?? 'idle'}`}>{value}</span>;
}

/** A time as the platform clock gave it (epoch ms). */
export function When({ ms, withDate }: { ms: number | undefined; withDate?: boolean }) {
  if (ms === undefined || !Number.isFinite(ms)) return <span class="muted">–</span>;
  const d = new Date(ms);
  return <time dateTime={d.toISOString()}>{withDate ? d.toLocaleString() : d.toLocaleTimeString()}</time>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="muted empty">{children}</p>;
}

export const shortSha = (sha: string) => (sha.length > 12 ? `${sha.slice(0, 12)}…` : sha);
