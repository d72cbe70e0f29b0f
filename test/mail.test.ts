// Outgoing mail over a real (in-process) SMTP server: an account's email is
// handed to nodemailer as one address, never parsed as an address list.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { createMailer } from "../src/mail.js";

/** Every RCPT TO the server was given, and the messages it accepted. */
async function startSmtp() {
  const recipients: string[] = [];
  let delivered = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    onRcptTo(address, _session, callback) {
      recipients.push(address.address);
      callback();
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on("end", () => {
        delivered++;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    recipients,
    delivered: () => delivered,
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let smtp: Awaited<ReturnType<typeof startSmtp>>;
beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(() => smtp?.close());

describe("the SMTP mailer", () => {
  const mailer = () =>
    createMailer({ env: "test", mail: { smtpUrl: smtp.url, from: "Latchkey <auth@example.test>" } }, createLogger("silent"));

  it("sends a plain address to exactly that mailbox", async () => {
    smtp.recipients.length = 0;
    await mailer().send({ to: "someone@example.test", subject: "Reset", text: "link" });
    expect(smtp.recipients).toEqual(["someone@example.test"]);
  });

  // Signup refuses such addresses now; an account stored before may still hold one.
  it("never splits a stored address list into several recipients", async () => {
    smtp.recipients.length = 0;
    await mailer()
      .send({ to: "victim@a.test, attacker@b.test", subject: "Reset", text: "link" })
      .catch(() => {}); // the server may refuse the odd mailbox: then nothing is sent at all
    expect(smtp.recipients.length).toBeLessThanOrEqual(1);
    expect(smtp.recipients).not.toContain("victim@a.test");
    expect(smtp.recipients).not.toContain("attacker@b.test");
  });
});
