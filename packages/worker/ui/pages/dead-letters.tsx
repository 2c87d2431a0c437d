import { get, post, type DeadLetter } from "../api.js";
import { Link, Loading, Message, useAction, useLoad } from "../components.js";
import { json, time } from "../format.js";
import { navigate } from "../router.js";

function Row(props: { letter: DeadLetter }) {
  const d = props.letter;
  const action = useAction();
  const redrive = () =>
    action.run(async () => {
      const { id } = await post<{ id: string }>(`/dead-letters/${encodeURIComponent(d.id)}/redrive`);
      navigate(`/runs/${encodeURIComponent(id)}`);
    });
  return (
    <tr data-testid="dead-letter-row" data-dead-letter-id={d.id}>
      <td>{d.id}</td>
      <td class="mono">
        <Link href={`/runs/${encodeURIComponent(d.runId)}`}>{d.runId}</Link>
      </td>
      <td>{d.workflowName}</td>
      <td>
        {d.map}[{d.index}]
      </td>
      <td>
        <pre class="inline">{json(d.item)}</pre>
      </td>
      <td>
        {d.error.name}: {d.error.message}
      </td>
      <td class="nowrap">{time(d.createdAt)}</td>
      <td>
        {d.retriedBy ? (
          <Link href={`/runs/${encodeURIComponent(d.retriedBy)}`}>redriven: {d.retriedBy}</Link>
        ) : (
          <button onClick={redrive} disabled={action.busy} data-testid="redrive">
            Redrive
          </button>
        )}
        <Message message={action.message} />
      </td>
    </tr>
  );
}

export function DeadLettersPage() {
  const letters = useLoad(() => get<{ deadLetters: DeadLetter[] }>("/dead-letters"), []);
  if (!letters.data) return <Loading error={letters.error} />;
  return (
    <section>
      <h1>Dead letters</h1>
      {letters.data.deadLetters.length === 0 ? (
        <p class="note">No dead letters.</p>
      ) : (
        <table data-testid="dead-letters-table">
          <thead>
            <tr>
              <th>#</th>
              <th>Run</th>
              <th>Workflow</th>
              <th>Item</th>
              <th>Value</th>
              <th>Error</th>
              <th>When</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {letters.data.deadLetters.map((d) => (
              <Row letter={d} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
