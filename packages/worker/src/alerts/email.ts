import nodemailer from "nodemailer";
import { WorkerConfigError } from "../errors.js";
import type { AlertChannel } from "./channel.js";
import { alertEmail } from "./email-message.js";

/** An SMTP server, when a URL will not do. */
export interface SmtpServer {
  host: string;
  /** @default 587, or 465 when `secure` */
  port?: number;
  /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. @default false */
  secure?: boolean;
  auth?: { user: string; pass: string };
  /** @default true */
  rejectUnauthorized?: boolean;
}

/** Options of {@link email}. */
export interface EmailOptions {
  to: string | readonly string[];
  from: string;
  /** `smtp://user:pass@host:587`, `smtps://…:465`, or a server. */
  smtp: string | SmtpServer;
  /**
   * The start of every subject.
   * @default "[Reprise]"
   */
  subjectPrefix?: string;
}

/**
 * A channel that emails each notification over SMTP (nodemailer): plain text and HTML, with
 * the run id, the error, the last log lines and the links; one message per alert, its
 * escalation and resolution threaded under it, and every alert of the same rule and key in
 * one thread.
 *
 * ```ts
 * channels: { oncall: email({ to: "oncall@example.com", from: "reprise@example.com", smtp: process.env.SMTP_URL ?? "smtp://localhost:25" }) }
 * ```
 *
 * @throws WorkerConfigError when an address or the server is missing
 */
export function email(options: EmailOptions): AlertChannel {
  const to = typeof options?.to === "string" ? [options.to] : options?.to;
  if (!Array.isArray(to) || to.length === 0 || to.some((a) => typeof a !== "string" || !a.includes("@"))) {
    throw new WorkerConfigError(`email(): to must be one or more addresses, got ${JSON.stringify(options?.to)}`);
  }
  if (typeof options.from !== "string" || !options.from.includes("@")) throw new WorkerConfigError(`email(): from must be an address, got ${JSON.stringify(options.from)}`);
  const smtp = options.smtp;
  if (typeof smtp === "string" ? !/^smtps?:\/\//.test(smtp) || !URL.canParse(smtp) : typeof smtp?.host !== "string") {
    throw new WorkerConfigError("email(): smtp must be an smtp:// or smtps:// URL, or { host, port?, secure?, auth? }");
  }
  const prefix = options.subjectPrefix ?? "[Reprise]";
  return async (alert, delivery) => {
    const timeout = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 10_000 };
    const transport =
      typeof smtp === "string"
        ? nodemailer.createTransport({ url: smtp, ...timeout })
        : nodemailer.createTransport({
            host: smtp.host,
            ...(smtp.port === undefined ? {} : { port: smtp.port }),
            secure: smtp.secure ?? false,
            ...(smtp.auth ? { auth: smtp.auth } : {}),
            tls: { rejectUnauthorized: smtp.rejectUnauthorized ?? true },
            ...timeout,
          });
    // A connection per message: alerts are rare, and nothing stays open between them.
    const aborted = () => transport.close();
    delivery.signal.addEventListener("abort", aborted, { once: true });
    try {
      const message = alertEmail(alert, delivery, options.from, prefix);
      await transport.sendMail({ from: options.from, to: [...to], ...message });
    } finally {
      delivery.signal.removeEventListener("abort", aborted);
      transport.close();
    }
  };
}
