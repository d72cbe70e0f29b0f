// A real SMTP server on loopback (smtp-server + mailparser) that keeps what
// it receives: the mail tests read their links from it.
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface Received {
  to: string;
  from: string;
  subject: string;
  text: string;
  /** The HTML part ("" if none). */
  html: string;
}

/** A real SMTP server on an ephemeral port that keeps what it receives. */
export async function startSmtp() {
  const inbox: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          inbox.push({
            to: session.envelope.rcptTo.map((r) => r.address).join(","),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            subject: mail.subject ?? "",
            text: mail.text ?? "",
            html: typeof mail.html === "string" ? mail.html : "",
          });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { inbox, url: `smtp://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}


export type SmtpCapture = Awaited<ReturnType<typeof startSmtp>>;

/** The first http(s) link in the newest message to `to` (with that subject, if given), or undefined. */
export function lastLinkTo(smtp: SmtpCapture, to: string, subject?: string): URL | undefined {
  const text = smtp.inbox.filter((m) => m.to === to && (subject === undefined || m.subject === subject)).at(-1)?.text;
  const link = text ? /https?:\/\/\S+/.exec(text)?.[0] : undefined;
  return link ? new URL(link) : undefined;
}
