import { get, type SeriesBucket, type WorkflowStats } from "../api.js";
import { Loading, useLoad } from "../components.js";
import { duration } from "../format.js";
import { navigate } from "../router.js";

const WINDOWS = ["1h", "24h", "7d", "30d"];

/** A bar chart of one value per bucket, drawn as SVG; empty buckets (null) leave a gap. */
function Bars(props: { title: string; summary: string; values: (number | null)[]; buckets: SeriesBucket[]; format: (v: number) => string; max?: number; testid: string }) {
  const { values } = props;
  const top = props.max ?? Math.max(1, ...values.filter((v): v is number => v !== null));
  const width = 600;
  const height = 120;
  const bar = width / Math.max(1, values.length);
  return (
    <figure class="chart" data-testid={props.testid}>
      <figcaption>
        {props.title} <span class="note">{props.summary}</span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height + 14}`} role="img" aria-label={props.title}>
        <line x1="0" y1={height} x2={width} y2={height} class="axis-line" />
        {values.map((v, i) =>
          v === null ? null : (
            <rect x={i * bar + 1} y={height - (v / top) * height} width={Math.max(1, bar - 2)} height={(v / top) * height} class="bar">
              <title>{`${new Date(props.buckets[i]!.at).toLocaleString()}: ${props.format(v)}`}</title>
            </rect>
          ),
        )}
        <text x="0" y={height + 12} class="tick">
          {props.buckets[0] ? new Date(props.buckets[0].at).toLocaleString() : ""}
        </text>
        <text x={width} y={height + 12} text-anchor="end" class="tick">
          now
        </text>
      </svg>
    </figure>
  );
}

/** Success rate, retries, time to recovery and throughput over a window, from the event log. */
export function ChartsPage(props: { query: URLSearchParams }) {
  const since = props.query.get("since") ?? "24h";
  const workflow = props.query.get("workflow") ?? "";
  const data = useLoad(() => get<{ stats: WorkflowStats[]; series: SeriesBucket[]; bucketMs: number }>("/stats", { since, workflow }), [since, workflow]);
  const workflows = useLoad(() => get<{ workflows: string[] }>("/workflows"), []);
  const go = (next: { since?: string; workflow?: string }) => {
    const q = new URLSearchParams({ since: next.since ?? since, ...(next.workflow ?? workflow ? { workflow: next.workflow ?? workflow } : {}) });
    navigate(`/charts?${q.toString()}`);
  };
  const series = data.data?.series ?? [];
  const sum = (pick: (b: SeriesBucket) => number) => series.reduce((n, b) => n + pick(b), 0);
  const completed = sum((b) => b.completed);
  const failed = sum((b) => b.failed);
  const recoveries = series.filter((b) => b.meanTimeToRecoveryMs !== null);
  return (
    <section>
      <h1>Charts</h1>
      <div class="filters">
        <label>
          Window
          <select value={since} onChange={(e) => go({ since: (e.target as HTMLSelectElement).value })}>
            {WINDOWS.map((w) => (
              <option value={w}>{w}</option>
            ))}
          </select>
        </label>
        <label>
          Workflow
          <select value={workflow} onChange={(e) => go({ workflow: (e.target as HTMLSelectElement).value })}>
            <option value="">every workflow</option>
            {(workflows.data?.workflows ?? []).map((w) => (
              <option value={w}>{w}</option>
            ))}
          </select>
        </label>
      </div>
      {!data.data ? (
        <Loading error={data.error} />
      ) : (
        <>
          <p class="note">One bar per {duration(data.data.bucketMs)}.</p>
          <div class="charts">
            <Bars
              title="Success rate"
              testid="chart-success"
              buckets={series}
              max={1}
              summary={completed + failed === 0 ? "no runs ended" : `${((completed / (completed + failed)) * 100).toFixed(1)}% over the window`}
              values={series.map((b) => (b.completed + b.failed === 0 ? null : b.completed / (b.completed + b.failed)))}
              format={(v) => `${(v * 100).toFixed(1)}%`}
            />
            <Bars title="Throughput (runs ended)" summary={`${sum((b) => b.completed + b.failed + b.cancelled)} in the window`} testid="chart-throughput" buckets={series} values={series.map((b) => b.completed + b.failed + b.cancelled)} format={(v) => String(v)} />
            <Bars title="Step retries" summary={`${sum((b) => b.retries)} in the window`} testid="chart-retries" buckets={series} values={series.map((b) => b.retries)} format={(v) => String(v)} />
            <Bars
              title="Time to recovery"
              summary={recoveries.length === 0 ? "no failure recovered" : `${recoveries.length} bucket(s) with a recovery`}
              testid="chart-recovery" buckets={series} values={series.map((b) => b.meanTimeToRecoveryMs)} format={(v) => duration(v)} />
          </div>
          <h2>By workflow</h2>
          <table data-testid="stats-table">
            <thead>
              <tr>
                <th>Workflow</th>
                <th>Runs</th>
                <th>Completed</th>
                <th>Failed</th>
                <th>Cancelled</th>
                <th>Success rate</th>
                <th>Step retries</th>
                <th>Time to recovery</th>
                <th>p50</th>
                <th>p95</th>
              </tr>
            </thead>
            <tbody>
              {data.data.stats.map((s) => (
                <tr>
                  <td>{s.workflowName}</td>
                  <td>{s.runs}</td>
                  <td>{s.completed}</td>
                  <td>{s.failed}</td>
                  <td>{s.cancelled}</td>
                  <td>{s.successRate === null ? "–" : `${(s.successRate * 100).toFixed(1)}%`}</td>
                  <td>{s.stepRetries}</td>
                  <td>{duration(s.meanTimeToRecoveryMs)}</td>
                  <td>{duration(s.p50DurationMs)}</td>
                  <td>{duration(s.p95DurationMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
