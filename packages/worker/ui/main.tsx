import { render } from "preact";
import { Link } from "./components.js";
import { AlertsPage } from "./pages/alerts.js";
import { BreakersPage } from "./pages/breakers.js";
import { ChartsPage } from "./pages/charts.js";
import { DeadLettersPage } from "./pages/dead-letters.js";
import { RunPage } from "./pages/run.js";
import { RunsPage } from "./pages/runs.js";
import { SchedulesPage } from "./pages/schedules.js";
import { useLocation } from "./router.js";

const SECTIONS: [string, string][] = [
  ["/runs", "Runs"],
  ["/alerts", "Alerts"],
  ["/schedules", "Schedules"],
  ["/breakers", "Breakers"],
  ["/dead-letters", "Dead letters"],
  ["/charts", "Charts"],
];

function Page(props: { path: string; query: URLSearchParams }) {
  const run = /^\/runs\/(.+)$/.exec(props.path);
  if (run) return <RunPage runId={decodeURIComponent(run[1]!)} />;
  switch (props.path) {
    case "/alerts":
      return <AlertsPage query={props.query} />;
    case "/schedules":
      return <SchedulesPage />;
    case "/breakers":
      return <BreakersPage />;
    case "/dead-letters":
      return <DeadLettersPage />;
    case "/charts":
      return <ChartsPage query={props.query} />;
    default:
      return <RunsPage query={props.query} />;
  }
}

function App() {
  const { path, query } = useLocation();
  return (
    <>
      <nav>
        <span class="brand">Reprise</span>
        {SECTIONS.map(([href, label]) => (
          <Link href={href} class={path === href || (href === "/runs" && (path === "/" || path.startsWith("/runs"))) ? "active" : ""}>
            {label}
          </Link>
        ))}
      </nav>
      <main>
        <Page path={path} query={query} />
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
