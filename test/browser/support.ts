// Real Chromium for the browser tests: Debian's /usr/bin/chromium driven by
// playwright-core. Missing browser: a failure under REQUIRE_BROWSER=1 (CI),
// elsewhere a skip announced by one loud line.
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { chromium, type Browser, type Page } from "playwright-core";
import { createLogger, type Logger } from "../../src/log.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { startSmtp, type SmtpCapture } from "../helpers/smtp.js";

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const browserMissing = !existsSync(CHROMIUM);

if (browserMissing) {
  if (process.env.REQUIRE_BROWSER === "1") {
    throw new Error(`REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  }
  // One line per `vitest run`, however many browser test files skip: the first worker to create the marker says it.
  try {
    mkdirSync(join(tmpdir(), `latchkey-browser-skip-${process.ppid}`));
    console.warn(`\n*** BROWSER TESTS SKIPPED: no Chromium at ${CHROMIUM} (install it, set CHROMIUM_PATH, or REQUIRE_BROWSER=1 to fail) ***\n`);
  } catch {
    // already announced
  }
}

/**
 * A headless Chromium. playwright-core's launch() gives every browser a fresh
 * temporary --user-data-dir and deletes it on close, so runs share nothing.
 */
export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
      ...extraArgs,
    ],
  });
}

const ARTIFACTS = join(process.cwd(), "test-artifacts", "browser");

/** Saves a full-page screenshot under test-artifacts/browser/ (git-ignored); returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface AccessLogLine {
  method?: string;
  path?: string;
  status?: number;
  event?: string;
}

/** A real pino logger whose lines the test can read: proof of what reached the server. */
export function capturingLogger(): { logger: Logger; lines: AccessLogLine[] } {
  const lines: AccessLogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line.trim()) lines.push(JSON.parse(line) as AccessLogLine);
      done();
    },
  });
  return { logger: createLogger("info", sink), lines };
}

/** Errors the page reported: CSP violations, uncaught exceptions. */
export function watchPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/Failed to load resource/.test(msg.text())) errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(String(err)));
  return errors;
}

/** Logs in through the start page's form, like a person, and waits for the account page. */
export async function logInThroughPage(page: Page, base: string, email: string, password: string): Promise<void> {
  await page.goto(base + "/");
  const form = page.locator("#login");
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Password").fill(password);
  await form.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(base + "/account");
}

export interface MailingServer {
  smtp: SmtpCapture;
  srv: TestServer;
  browser: Browser;
  /** The server's own origin, which the browser opens. */
  base: string;
  /** A mailed link (which names PUBLIC_URL) as the same path and query on `base`. */
  open(link: URL): string;
  close(): Promise<void>;
}

/** A server that mails through a loopback SMTP server the test reads, and a Chromium. */
export async function startMailingServer(env: Record<string, string> = {}): Promise<MailingServer> {
  const smtp = await startSmtp();
  const srv = await startTestServer({ env: { SMTP_URL: smtp.url, PUBLIC_URL: "http://auth.example.test", ...env } });
  const browser = await launchBrowser();
  const base = `http://localhost:${srv.port}`;
  return {
    smtp, srv, browser, base,
    open: (link) => base + link.pathname + link.search,
    async close() {
      await browser.close();
      await srv.destroy();
      await smtp.close();
    },
  };
}
