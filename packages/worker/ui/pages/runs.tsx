import { useEffect, useState } from "preact/hooks";
import { get, STATUSES, TERMINAL, type Run } from "../api.js";
import { Link, Loading, StatusBadge, useLoad } from "../components.js";
import { duration, since, time } from "../format.js";
import { navigate } from "../router.js";

const REFRESH_MS = 3_000;

function toQuery(filters: Record<string, string>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) q.set(key, value);
  const text = q.toString();
  return text ? `?${text}` : "";
}

/** `datetime-local` values are local wall-clock times; the API takes instants. */
function instant(local: string): string | undefined {
  if (!local) return undefined;
  const at = new Date(local);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/** Runs, newest first: filters in the URL, keyset pages ("Older"), refreshed while open. */
export function RunsPage(props: { query: URLSearchParams }) {
  const filters = {
    status: props.query.get("status") ?? "",
    workflow: props.query.get("workflow") ?? "",
    from: props.query.get("from") ?? "",
    to: props.query.get("to") ?? "",
    after: props.query.get("after") ?? "",
  };
  const key = JSON.stringify(filters);
  const runs = useLoad(
    () => get<{ runs: Run[]; next?: string }>("/runs", { ...filters, from: instant(filters.from), to: instant(filters.to) }),
    [key],
  );
  const workflows = useLoad(() => get<{ workflows: string[] }>("/workflows"), []);
  const [search, setSearch] = useState("");
  useEffect(() => {
    const timer = setInterval(runs.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [runs.reload]);

  const set = (name: string, value: string) => navigate(`/runs${toQuery({ ...filters, after: "", [name]: value })}`);
  const find = async (event: Event) => {
    event.preventDefault();
    const id = search.trim();
    if (id) navigate(`/runs/${encodeURIComponent(id)}`);
  };

  return (
    <section>
      <h1>Runs</h1>
      <div class="filters">
        <label>
          Status
          <select value={filters.status} onChange={(e) => set("status", (e.target as HTMLSelectElement).value)} data-testid="filter-status">
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Workflow
          <select value={filters.workflow} onChange={(e) => set("workflow", (e.target as HTMLSelectElement).value)} data-testid="filter-workflow">
            <option value="">any</option>
            {(workflows.data?.workflows ?? []).map((w) => (
              <option value={w}>{w}</option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" value={filters.from} onChange={(e) => set("from", (e.target as HTMLInputElement).value)} />
        </label>
        <label>
          To
          <input type="datetime-local" value={filters.to} onChange={(e) => set("to", (e.target as HTMLInputElement).value)} />
        </label>
        <form onSubmit={find} class="search">
          <input placeholder="Run id" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} data-testid="search-id" />
          <button type="submit">Open</button>
        </form>
      </div>
      {!runs.data ? (
        <Loading error={runs.error} />
      ) : runs.data.runs.length === 0 ? (
        <p class="note">No runs{filters.status || filters.workflow || filters.from || filters.to ? " match these filters" : " yet"}.</p>
      ) : (
        <table class="runs" data-testid="runs-table">
          <thead>
            <tr>
              <th>Status</th>
              <th>Workflow</th>
              <th>Run</th>
              <th>Started</th>
              <th>Duration</th>
              <th>Attempt</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.runs.map((run) => (
              <tr data-testid="run-row" data-run-id={run.id}>
                <td>
                  <StatusBadge status={run.status} />
                </td>
                <td>{run.workflowName}</td>
                <td class="mono">
                  <Link href={`/runs/${encodeURIComponent(run.id)}`}>{run.id}</Link>
                </td>
                <td>{time(run.startedAt ?? run.createdAt)}</td>
                <td>{run.startedAt ? duration(since(run.startedAt, TERMINAL.has(run.status) ? run.updatedAt : undefined)) : "–"}</td>
                <td>{run.attempt}</td>
                <td class="error-cell" title={run.error ? `${run.error.name}: ${run.error.message}` : ""}>
                  {run.error ? `${run.error.name}: ${run.error.message}` : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="pager">
        {filters.after ? <Link href={`/runs${toQuery({ ...filters, after: "" })}`}>Newest</Link> : null}
        {runs.data?.next ? (
          <Link href={`/runs${toQuery({ ...filters, after: runs.data.next })}`} testid="older">
            Older →
          </Link>
        ) : null}
      </div>
    </section>
  );
}
