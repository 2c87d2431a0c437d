import { get, type Breaker } from "../api.js";
import { Loading, useLoad } from "../components.js";
import { time } from "../format.js";

export function BreakersPage() {
  const breakers = useLoad(() => get<{ breakers: Breaker[] }>("/breakers"), []);
  if (!breakers.data) return <Loading error={breakers.error} />;
  return (
    <section>
      <h1>Circuit breakers</h1>
      {breakers.data.breakers.length === 0 ? (
        <p class="note">No breaker has been used yet.</p>
      ) : (
        <table data-testid="breakers-table">
          <thead>
            <tr>
              <th>Breaker</th>
              <th>State</th>
              <th>Consecutive failures</th>
              <th>Opened</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {breakers.data.breakers.map((b) => (
              <tr>
                <td class="mono">{b.name}</td>
                <td>
                  <span class={`badge breaker-${b.state}`}>{b.state}</span>
                </td>
                <td>{b.failures}</td>
                <td>{time(b.openedAt)}</td>
                <td>{time(b.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
