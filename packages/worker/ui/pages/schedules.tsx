import { useState } from "preact/hooks";
import { get, post, postStream, type Schedule } from "../api.js";
import { Link, Loading, Message, StatusBadge, useAction, useLoad } from "../components.js";
import { duration } from "../format.js";

function Backfill(props: { schedule: Schedule }) {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [progress, setProgress] = useState<{ done: number; total: number } | undefined>();
  const action = useAction();
  const start = () =>
    action.run(async () => {
      let result: Record<string, unknown> | undefined;
      await postStream(`/schedules/${encodeURIComponent(props.schedule.id)}/backfill`, { from, to }, (line) => {
        const p = line.progress as { slots: number; created: number; existed: number; skipped: number } | undefined;
        if (p) setProgress({ done: p.created + p.existed + p.skipped, total: p.slots });
        if (line.result) result = line.result as Record<string, unknown>;
        if (line.error) throw new Error((line.error as { message: string }).message);
      });
      return result ? `Backfill done: ${String(result.created)} created, ${String(result.existed)} existed, ${String(result.skipped)} skipped.` : "Backfill done.";
    });
  return (
    <span class="group">
      <input placeholder="from (2026-01-01)" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} data-testid="backfill-from" />
      <input placeholder="to (2026-01-07)" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} data-testid="backfill-to" />
      <button disabled={action.busy || !from || !to} onClick={start} data-testid="backfill">
        Backfill
      </button>
      {progress && action.busy ? <progress max={progress.total} value={progress.done} /> : null}
      <Message message={action.message} />
    </span>
  );
}

function Row(props: { schedule: Schedule; reload: () => void }) {
  const s = props.schedule;
  const action = useAction();
  const call = (verb: "pause" | "resume" | "trigger") =>
    action.run(async () => {
      const res = await post<{ id: string }>(`/schedules/${encodeURIComponent(s.id)}/${verb}`);
      props.reload();
      return verb === "trigger" ? `Started ${res.id}` : undefined;
    });
  return (
    <tr data-testid="schedule-row" data-schedule-id={s.id}>
      <td class="mono">{s.id}</td>
      <td>{s.workflowName}</td>
      <td class="mono">{s.cron ?? (s.every ? `every ${duration(s.every)}` : "")}</td>
      <td>{s.paused ? <em>paused</em> : s.upcoming.map((t) => <div class="nowrap">{t}</div>)}</td>
      <td>{s.lastRun ? <><StatusBadge status={s.lastRun.status} /> <Link href={`/runs/${encodeURIComponent(s.lastRun.id)}`}>{s.lastRun.id}</Link></> : "–"}</td>
      <td class="actions">
        {s.paused ? (
          <button onClick={() => call("resume")} disabled={action.busy}>Resume</button>
        ) : (
          <button onClick={() => call("pause")} disabled={action.busy}>Pause</button>
        )}
        <button onClick={() => call("trigger")} disabled={action.busy}>Trigger</button>
        <Backfill schedule={s} />
        <Message message={action.message} />
      </td>
    </tr>
  );
}

export function SchedulesPage() {
  const schedules = useLoad(() => get<{ schedules: Schedule[] }>("/schedules"), []);
  if (!schedules.data) return <Loading error={schedules.error} />;
  return (
    <section>
      <h1>Schedules</h1>
      {schedules.data.schedules.length === 0 ? (
        <p class="note">No schedules.</p>
      ) : (
        <table data-testid="schedules-table">
          <thead>
            <tr>
              <th>Schedule</th>
              <th>Workflow</th>
              <th>When</th>
              <th>Next fire times (its zone)</th>
              <th>Last run</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {schedules.data.schedules.map((s) => (
              <Row schedule={s} reload={schedules.reload} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
