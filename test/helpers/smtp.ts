// A real SMTP server on loopback that keeps what it receives, for tests that
// follow an emailed link. (test/password-reset.test.ts has its own copy.)
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
}

export interface SmtpCapture {
  inbox: ReceivedMail[];
  /** smtp://127.0.0.1:<port>, for SMTP_URL */
  url: string;
  /** The first http(s) link in the newest message to `to`, or undefined. */
  lastLinkTo(to: string): URL | undefined;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<SmtpCapture> {
  const inbox: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          inbox.push({ to: session.envelope.rcptTo.map((r) => r.address).join(","), subject: mail.subject ?? "", text: mail.text ?? "" });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    inbox,
    url: `smtp://127.0.0.1:${port}`,
    lastLinkTo(to) {
      const text = inbox.filter((m) => m.to === to).at(-1)?.text;
      const link = text ? /https?:\/\/\S+/.exec(text)?.[0] : undefined;
      return link ? new URL(link) : undefined;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
