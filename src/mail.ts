// Outgoing email. SMTP through nodemailer when SMTP_URL is set, as text and
// an HTML part made from it (htmlOf). Without it:
// in development the message goes to the log (so the reset flow can be tried
// with no mail server); in test and production it is dropped with a warning,
// because a log is no place for a live reset link.
import type { Config } from "./config.js";
import { importOptional } from "./optional-import.js";
import type { Logger } from "./log.js";

export interface MailMessage {
  /** One mailbox (an account's email), never parsed as an address list. */
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** Settles when the mailer can send; rejects when SMTP_URL is set but nodemailer is not installed. */
  readonly ready?: Promise<void>;
  send(message: MailMessage): Promise<void>;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
const LINK = /https?:\/\/[^\s<>"']+/g;

/**
 * The HTML part of a message, made from its text: every character of it
 * escaped (addresses, user agents and anything else a user may have typed
 * cannot become markup), links made clickable, blank lines made paragraphs.
 * One source, so the two parts can never say different things.
 */
export function htmlOf(text: string): string {
  const paragraphs = text.split(/\n{2,}/).map((block) => {
    let out = "";
    let last = 0;
    for (const m of block.matchAll(LINK)) {
      out += escapeHtml(block.slice(last, m.index)) + `<a href="${escapeHtml(m[0])}">${escapeHtml(m[0])}</a>`;
      last = m.index + m[0].length;
    }
    out += escapeHtml(block.slice(last));
    return `<p>${out.replace(/\n/g, "<br>\n")}</p>`;
  });
  return `<!doctype html>\n<html><body>\n${paragraphs.join("\n")}\n</body></html>\n`;
}

export function createMailer(config: Pick<Config, "env" | "mail">, logger: Logger): Mailer {
  const { smtpUrl, from } = config.mail;
  if (smtpUrl) {
    // nodemailer is an optional peer dependency, loaded only when SMTP_URL asks for it.
    const transport = importOptional("nodemailer", "SMTP_URL is set", () => import("nodemailer")).then((m) =>
      m.default.createTransport(smtpUrl),
    );
    const ready = transport.then(() => undefined);
    ready.catch(() => {}); // reported by whoever awaits `ready` (startServer) or by send()
    return {
      ready,
      async send(message) {
        // An address object, not a string: nodemailer parses a string as an
        // address list, so a stored "a@x, b@y" or '"ceo@corp" <me@evil>' would
        // mail every mailbox it names. As an object it is one recipient, whatever it holds.
        await (await transport).sendMail({
          from,
          to: { name: "", address: message.to },
          subject: message.subject,
          text: message.text,
          html: htmlOf(message.text),
        });
      },
    };
  }
  if (config.env === "development") {
    return {
      async send(message) {
        // The one place a secret (the reset link) may reach a log: development only, no SMTP configured.
        logger.info(
          { event: "mail.development", to: message.to, subject: message.subject, body: message.text },
          [
            "",
            "==================== DEVELOPMENT MAIL (SMTP_URL is not set) ====================",
            `To: ${message.to}`,
            `Subject: ${message.subject}`,
            "",
            message.text,
            "================================================================================",
          ].join("\n"),
        );
      },
    };
  }
  if (config.env === "production") {
    logger.warn({ event: "mail.not_configured", message: "SMTP_URL is not set: password-reset emails will not be sent" });
  }
  return {
    async send(message) {
      logger.warn({ event: "mail.not_configured", subject: message.subject });
    },
  };
}
