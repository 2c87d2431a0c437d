import { get, post, type Alert } from "../api.js";
import { Link, Loading, Message, useAction, useLoad } from "../components.js";
import { time } from "../format.js";
import { navigate } from "../router.js";

const STATUSES = ["open", "acknowledged", "resolved"] as const;

function Row(props: { alert: Alert; reload: () => void }) {
  const a = props.alert;
  const action = useAction();
  const act = (verb: "ack" | "resolve") =>
    action.run(async () => {
      await post(`/alerts/${encodeURIComponent(a.id)}/${verb}`, verb === "ack" ? { by: "dashboard" } : {});
      props.reload();
    });
  const failing = a.deliveries.filter((d) => d.status === "failing" || d.status === "failed");
  return (
    <tr data-testid="alert-row" data-alert-id={a.id} class={`alert-${a.status}`}>
      <td>
        <span class={`badge severity-${a.severity}`}>{a.severity}</span>
      </td>
      <td data-testid="alert-status">{a.status}</td>
      <td>
        <div>{a.rule}</div>
        <div class="note">
          {a.workflowName}
          {a.stepName ? ` · ${a.stepName}` : ""}
        </div>
      </td>
      <td>
        <div>
          {a.errorName}: {a.message}
        </div>
        {a.lastLogLines.length > 0 ? (
          <details>
            <summary>last log lines</summary>
            <pre>{a.lastLogLines.join("\n")}</pre>
          </details>
        ) : null}
        {failing.length > 0 ? (
          <div class="note bad">
            delivery failing: {failing.map((d) => `${d.channel} ×${d.attempts}${d.lastError ? ` (${d.lastError})` : ""}`).join(", ")}
          </div>
        ) : null}
      </td>
      <td class="mono">
        <Link href={`/runs/${encodeURIComponent(a.runId)}`}>{a.runId}</Link>
      </td>
      <td>{a.count}</td>
      <td class="nowrap">
        <div>{time(a.firstSeenAt)}</div>
        <div class="note">last {time(a.lastSeenAt)}</div>
      </td>
      <td>
        {a.escalatedAt ? <div class="note bad">escalated {time(a.escalatedAt)}</div> : null}
        {a.acknowledgedBy ? <div class="note">acknowledged by {a.acknowledgedBy}</div> : null}
        {a.runbookUrl ? (
          <a href={a.runbookUrl} rel="noreferrer noopener" target="_blank">
            runbook
          </a>
        ) : null}
      </td>
      <td class="actions">
        {a.status === "open" ? (
          <button onClick={() => act("ack")} disabled={action.busy} data-testid="ack">
            Acknowledge
          </button>
        ) : null}
        {a.status !== "resolved" ? (
          <button onClick={() => act("resolve")} disabled={action.busy} data-testid="resolve">
            Resolve
          </button>
        ) : null}
        <Message message={action.message} />
      </td>
    </tr>
  );
}

export function AlertsPage(props: { query: URLSearchParams }) {
  const status = props.query.get("status") ?? "";
  const alerts = useLoad(() => get<{ alerts: Alert[] }>("/alerts", { status }), [status]);
  return (
    <section>
      <h1>Alerts</h1>
      <div class="filters">
        <label>
          Status
          <select value={status} onChange={(e) => navigate(`/alerts${(e.target as HTMLSelectElement).value ? `?status=${(e.target as HTMLSelectElement).value}` : ""}`)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
      </div>
      {!alerts.data ? (
        <Loading error={alerts.error} />
      ) : alerts.data.alerts.length === 0 ? (
        <p class="note">No alerts.</p>
      ) : (
        <table data-testid="alerts-table">
          <thead>
            <tr>
              <th>Severity</th>
              <th>Status</th>
              <th>Rule</th>
              <th>What failed</th>
              <th>Run</th>
              <th>Count</th>
              <th>Seen</th>
              <th />
              <th />
            </tr>
          </thead>
          <tbody>
            {alerts.data.alerts.map((a) => (
              <Row alert={a} reload={alerts.reload} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
