import { useEffect, useState } from "preact/hooks";
import { get, post, TERMINAL, type RunDetail } from "../api.js";
import { ErrorBox, Link, Loading, Message, StatusBadge, useAction, useLoad } from "../components.js";
import { duration, json, since, time } from "../format.js";
import { navigate } from "../router.js";
import { Timeline } from "./timeline.js";

/** Reloads the run when the server says it moved (server-sent events; polling if they fail). */
function useLive(runId: string, known: string | undefined, reload: () => void): void {
  useEffect(() => {
    if (known === undefined) return;
    const source = new EventSource(`/api/runs/${encodeURIComponent(runId)}/live?known=${encodeURIComponent(known)}`);
    source.addEventListener("run", () => reload());
    let poll: ReturnType<typeof setInterval> | undefined;
    source.onerror = () => {
      // The stream is down (a proxy that buffers, a restart): poll until it is back.
      poll ??= setInterval(reload, 2_000);
    };
    source.onopen = () => {
      clearInterval(poll);
      poll = undefined;
    };
    return () => {
      source.close();
      clearInterval(poll);
    };
  }, [runId, known]);
}

function Actions(props: { detail: RunDetail; reload: () => void }) {
  const { run, events } = props.detail;
  const action = useAction();
  const [fromStep, setFromStep] = useState("");
  const [signalName, setSignalName] = useState("");
  const [payload, setPayload] = useState("");
  const steps = [...new Map(events.filter((e) => e.position !== null && e.name).map((e) => [e.position!, e.name!])).entries()].sort((a, b) => a[0] - b[0]);
  const ended = TERMINAL.has(run.status);
  const canRetry = run.status === "failed" || run.status === "cancelled";

  const retry = () =>
    action.run(async () => {
      await post(`/runs/${encodeURIComponent(run.id)}/retry`);
      props.reload();
      return "Retried: the failed step runs again; completed steps keep their results.";
    });
  const cancel = () =>
    action.run(async () => {
      await post(`/runs/${encodeURIComponent(run.id)}/cancel`, { reason: "cancelled from the dashboard" });
      props.reload();
      return "Cancellation requested.";
    });
  const fork = () =>
    action.run(async () => {
      if (fromStep === "") throw new Error("choose the step to fork from");
      const { id } = await post<{ id: string }>(`/runs/${encodeURIComponent(run.id)}/fork`, { fromStep: Number(fromStep) });
      navigate(`/runs/${encodeURIComponent(id)}`);
    });
  const signal = () =>
    action.run(async () => {
      if (!signalName.trim()) throw new Error("a signal needs a name");
      let value: unknown;
      if (payload.trim()) {
        try {
          value = JSON.parse(payload);
        } catch {
          throw new Error("the payload is not valid JSON");
        }
      }
      await post(`/runs/${encodeURIComponent(run.id)}/signal`, { name: signalName.trim(), payload: value });
      props.reload();
      return `Signal "${signalName.trim()}" sent.`;
    });

  return (
    <div class="actions">
      <button disabled={!canRetry || action.busy} onClick={retry} data-testid="retry">
        Retry
      </button>
      <button disabled={ended || action.busy} onClick={cancel} data-testid="cancel">
        Cancel
      </button>
      <span class="group">
        <select value={fromStep} onChange={(e) => setFromStep((e.target as HTMLSelectElement).value)} data-testid="fork-step">
          <option value="">fork from step…</option>
          {steps.map(([position, name]) => (
            <option value={String(position)}>
              {position}: {name}
            </option>
          ))}
        </select>
        <button disabled={action.busy || steps.length === 0} onClick={fork} data-testid="fork">
          Fork
        </button>
      </span>
      <span class="group">
        <input placeholder="signal name" value={signalName} onInput={(e) => setSignalName((e.target as HTMLInputElement).value)} data-testid="signal-name" disabled={ended} />
        <input placeholder='payload (JSON), e.g. {"ok":true}' value={payload} onInput={(e) => setPayload((e.target as HTMLInputElement).value)} data-testid="signal-payload" disabled={ended} />
        <button disabled={ended || action.busy} onClick={signal} data-testid="send-signal">
          Send signal
        </button>
      </span>
      <Message message={action.message} />
    </div>
  );
}

/** One run: what it is, its timeline, its failure, its log, its events; and what to do about it. */
export function RunPage(props: { runId: string }) {
  const detail = useLoad(() => get<RunDetail>(`/runs/${encodeURIComponent(props.runId)}`), [props.runId]);
  const d = detail.data;
  const last = d?.events[d.events.length - 1];
  useLive(props.runId, d ? `${d.run.status}:${last?.seq ?? -1}` : undefined, detail.reload);
  if (!d) return <Loading error={detail.error} />;
  const { run, events, logs, children } = d;
  const ended = TERMINAL.has(run.status);
  const start = Date.parse(run.startedAt ?? run.createdAt);
  const end = ended ? Date.parse(run.updatedAt) : Date.now();

  return (
    <section>
      <h1>
        <span class="mono" data-testid="run-id">{run.id}</span> <StatusBadge status={run.status} />
      </h1>
      <dl class="facts">
        <dt>Workflow</dt>
        <dd>{run.workflowName}</dd>
        <dt>Created</dt>
        <dd>{time(run.createdAt)}</dd>
        <dt>Started</dt>
        <dd>{time(run.startedAt)}</dd>
        <dt>Duration</dt>
        <dd>{run.startedAt ? duration(since(run.startedAt, ended ? run.updatedAt : undefined)) : "–"}</dd>
        <dt>Attempt</dt>
        <dd>{run.attempt}</dd>
        <dt>Queue</dt>
        <dd>{run.queue}</dd>
        {run.parentId ? (
          <>
            <dt>Parent</dt>
            <dd>
              <Link href={`/runs/${encodeURIComponent(run.parentId)}`}>{run.parentId}</Link>
            </dd>
          </>
        ) : null}
        {run.forkedFrom ? (
          <>
            <dt>Forked from</dt>
            <dd>
              <Link href={`/runs/${encodeURIComponent(run.forkedFrom)}`}>{run.forkedFrom}</Link>
            </dd>
          </>
        ) : null}
      </dl>
      <Actions detail={d} reload={detail.reload} />
      {!ended && run.stepsInFlight?.length ? (
        <div class="inflight" data-testid="in-flight">
          {run.stepsInFlight.map((s) => (
            <div>
              Running now: step <strong>{s.name}</strong> (position {s.position}), attempt {s.attempt}, on worker <span class="mono">{s.workerId}</span>, for{" "}
              {duration(Date.now() - Date.parse(s.startedAt))}
            </div>
          ))}
        </div>
      ) : null}
      {run.error ? (
        <>
          <h2>Error</h2>
          <ErrorBox error={run.error} testid="run-error" />
        </>
      ) : null}
      <h2>Timeline</h2>
      <Timeline events={events} start={start} end={end} />
      <div class="columns">
        <div>
          <h2>Input</h2>
          <pre data-testid="input">{json(run.input)}</pre>
        </div>
        <div>
          <h2>Output</h2>
          <pre data-testid="output">{json(run.output)}</pre>
        </div>
      </div>
      {children.length > 0 ? (
        <>
          <h2>Children</h2>
          <ul class="children">
            {children.map((c) => (
              <li>
                <StatusBadge status={c.status} /> <Link href={`/runs/${encodeURIComponent(c.id)}`}>{c.id}</Link> {c.workflowName}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <h2>Logs</h2>
      {logs.length === 0 ? (
        <p class="note">No log lines.</p>
      ) : (
        <table class="logs" data-testid="logs">
          <tbody>
            {logs.map((l) => (
              <tr class={`level-${l.level}`}>
                <td class="nowrap">{time(l.at)}</td>
                <td>{l.level}</td>
                <td>{l.step ? `${l.step}${l.attempt ? ` #${l.attempt}` : ""}` : ""}</td>
                <td>
                  {l.message}
                  {l.fields ? <span class="fields"> {json(l.fields)}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Event log</h2>
      <table class="events" data-testid="events">
        <thead>
          <tr>
            <th>seq</th>
            <th>kind</th>
            <th>position</th>
            <th>name</th>
            <th>at</th>
            <th>payload</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr>
              <td>{e.seq}</td>
              <td>{e.kind}</td>
              <td>{e.position ?? ""}</td>
              <td>{e.name ?? ""}</td>
              <td class="nowrap">{time(e.createdAt)}</td>
              <td>
                <details>
                  <summary>{json(e.payload).slice(0, 80)}</summary>
                  <pre>{json(e.payload)}</pre>
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
