import { toMillis, type Alert, type Duration } from "@reprise/sdk";
import { WebhookError, WorkerConfigError } from "../errors.js";
import type { AlertChannel, AlertDelivery } from "./channel.js";
import { slackMessage } from "./slack-message.js";

/** Options of {@link webhook}. */
export interface WebhookOptions {
  /**
   * `"slack"`: a Slack incoming-webhook message with blocks; `"json"`: the alert object, with
   * `notification` and `idempotencyKey`.
   * @default "json"
   */
  format?: "slack" | "json";
  /** Extra request headers (an `Authorization`, say). */
  headers?: Readonly<Record<string, string>>;
  /**
   * A request that takes longer fails (and is retried). The delivery's own `deliveryTimeout` applies too.
   * @default the alerts' deliveryTimeout
   */
  timeout?: Duration;
}

/** The JSON body of a `"json"` webhook: the alert, why it is sent, and the key to de-duplicate by. */
export function alertJson(alert: Alert, delivery: AlertDelivery): Record<string, unknown> {
  return { ...alert, notification: delivery.notification, idempotencyKey: delivery.idempotencyKey };
}

/**
 * A channel that POSTs each notification to a URL (Node's fetch), with an `Idempotency-Key`
 * header that stays the same when a delivery is sent again (after a failure or a crash).
 * Any 2xx is success.
 *
 * ```ts
 * channels: { team: webhook(process.env.SLACK_WEBHOOK_URL, { format: "slack" }) }
 * ```
 *
 * @throws WorkerConfigError when `url` is not an http(s) URL (an unset environment variable, say)
 */
export function webhook(url: string | undefined, options: WebhookOptions = {}): AlertChannel {
  if (typeof url !== "string" || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new WorkerConfigError(`webhook() needs an http(s) URL, got ${JSON.stringify(url)}`);
  }
  const format = options.format ?? "json";
  if (format !== "json" && format !== "slack") throw new WorkerConfigError(`webhook(): format must be "slack" or "json", got ${JSON.stringify(options.format)}`);
  const timeoutMs = options.timeout === undefined ? undefined : toMillis(options.timeout);
  // Shown in errors without what a URL may hide in it (Slack's secret path, a password).
  const shown = new URL(url).origin;
  return async (alert, delivery) => {
    const body = format === "slack" ? slackMessage(alert, delivery) : alertJson(alert, delivery);
    const signal = timeoutMs === undefined ? delivery.signal : AbortSignal.any([delivery.signal, AbortSignal.timeout(timeoutMs)]);
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "reprise-alerts",
        "idempotency-key": delivery.idempotencyKey,
        ...options.headers,
      },
      body: JSON.stringify(body),
      signal,
      redirect: "follow",
    });
    const text = await response.text().catch(() => "");
    if (!response.ok) throw new WebhookError(response.status, shown, text.slice(0, 200).trim(), retryAfter(response.headers.get("retry-after")));
  };
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
