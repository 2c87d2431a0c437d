import type { Store } from "@reprise/store";
import { AlertNotFoundError, ValidationError } from "../errors.js";
import { toAlertInfo, type AlertInfo, type AlertStatus, type ListAlertsOptions } from "./alert-info.js";

const STATUSES: readonly AlertStatus[] = ["open", "acknowledged", "resolved"];

/** What `client.alerts` needs from its `Client`. */
export interface AlertClientHost {
  /** Runs a store call, turning driver failures into Reprise errors. */
  call<T>(fn: (store: Store) => Promise<T>): Promise<T>;
}

/**
 * `client.alerts`: the alerts that workers with alert rules raised, and their lifecycle.
 *
 * ```ts
 * for (const alert of await client.alerts.list({ status: "open" })) console.log(alert.id, alert.message);
 * await client.alerts.ack("17", { by: "ada" });   // no escalation from now on
 * await client.alerts.resolve("17");
 * ```
 */
export class AlertClient {
  constructor(private readonly host: AlertClientHost) {}

  /** Newest first, each with its deliveries (a failing channel shows as `failing`). @throws ValidationError on an unknown status */
  async list(options: ListAlertsOptions = {}): Promise<AlertInfo[]> {
    if (options.status !== undefined && !STATUSES.includes(options.status)) {
      throw new ValidationError(`alert status must be one of ${STATUSES.join(", ")}, got ${JSON.stringify(options.status)}`);
    }
    return this.host.call(async (s) => {
      const rows = await s.alerts.list({ status: options.status, limit: options.limit });
      const deliveries = await s.alerts.deliveries(rows.map((r) => r.id));
      return rows.map((r) => toAlertInfo(r, deliveries));
    });
  }

  /** @throws AlertNotFoundError */
  async get(id: string): Promise<AlertInfo> {
    return this.withDeliveries(id, (s) => s.alerts.get(String(id)));
  }

  /**
   * Acknowledges an open alert: someone is on it, so it does not escalate. Occurrences
   * inside its window still count. An acknowledged or resolved alert is left as it is.
   * @throws AlertNotFoundError
   */
  ack(id: string, options: { by?: string } = {}): Promise<AlertInfo> {
    return this.withDeliveries(id, (s) => s.alerts.acknowledge(String(id), options.by));
  }

  /**
   * Resolves an alert (the rule's `notifyOnResolve` channels are told). The next occurrence
   * of its rule and key opens a new alert.
   * @throws AlertNotFoundError
   */
  resolve(id: string): Promise<AlertInfo> {
    return this.withDeliveries(id, (s) => s.alerts.resolve(String(id)));
  }

  private async withDeliveries(id: string, fn: (store: Store) => ReturnType<Store["alerts"]["get"]>): Promise<AlertInfo> {
    const found = await this.host.call(async (s) => {
      const row = await fn(s);
      return row ? toAlertInfo(row, await s.alerts.deliveries([row.id])) : undefined;
    });
    if (!found) throw new AlertNotFoundError(String(id));
    return found;
  }
}
