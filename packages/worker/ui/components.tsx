import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import type { StoredError } from "./api.js";
import { onLinkClick } from "./router.js";

export function Link(props: { href: string; children: ComponentChildren; class?: string; testid?: string }) {
  return (
    <a href={props.href} class={props.class} data-testid={props.testid} onClick={(e) => onLinkClick(e, props.href)}>
      {props.children}
    </a>
  );
}

export function StatusBadge(props: { status: string }) {
  return <span class={`badge status-${props.status}`} data-testid="status">{props.status}</span>;
}

/** An error: name and message, its stack on demand, and its causes. Text only: nothing in it is markup. */
export function ErrorBox(props: { error: StoredError; testid?: string }) {
  const { error } = props;
  return (
    <div class="error-box" data-testid={props.testid}>
      <div class="error-title">
        <strong>{error.name}</strong>: {error.message}
      </div>
      {error.stack ? (
        <details>
          <summary>stack</summary>
          <pre>{error.stack}</pre>
        </details>
      ) : null}
      {error.cause ? (
        <div class="cause">
          caused by <ErrorBox error={error.cause} />
        </div>
      ) : null}
    </div>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  reload: () => void;
}

/** Loads `fetcher()` now and whenever `deps` change or `reload()` is called. */
export function useLoad<T>(fetcher: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    fetcher().then(
      (data) => live && setState({ data }),
      (error: unknown) => live && setState((s) => ({ ...s, error: (error as Error).message })),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data: state.data, error: state.error, reload };
}

/** Runs an action, showing its error (or its success message) beside its button. */
export function useAction(): { busy: boolean; message: { ok: boolean; text: string } | undefined; run: (fn: () => Promise<string | void>) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  const run = async (fn: () => Promise<string | void>) => {
    setBusy(true);
    setMessage(undefined);
    try {
      const text = await fn();
      if (text) setMessage({ ok: true, text });
    } catch (error) {
      setMessage({ ok: false, text: (error as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return { busy, message, run };
}

export function Message(props: { message: { ok: boolean; text: string } | undefined }) {
  if (!props.message) return null;
  return (
    <span class={props.message.ok ? "note ok" : "note bad"} data-testid="action-message" role="status">
      {props.message.text}
    </span>
  );
}

export function Loading(props: { error: string | undefined }) {
  return props.error ? <p class="note bad">{props.error}</p> : <p class="note">Loading…</p>;
}
