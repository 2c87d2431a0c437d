import { useEffect, useState } from "preact/hooks";

const listeners = new Set<() => void>();

/** Goes to a page of the dashboard without a reload. */
export function navigate(to: string): void {
  if (to === location.pathname + location.search) return;
  history.pushState(null, "", to);
  for (const notify of listeners) notify();
}

/** The current path and query, re-rendering on navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const notify = () => setTick((n) => n + 1);
    listeners.add(notify);
    addEventListener("popstate", notify);
    return () => {
      listeners.delete(notify);
      removeEventListener("popstate", notify);
    };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** A click on an in-page link navigates without a reload; a modified click opens as usual. */
export function onLinkClick(event: MouseEvent, to: string): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(to);
}
