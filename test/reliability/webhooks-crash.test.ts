// Webhooks survive crashes: the real server (a child process, as `npm
// start` runs it) produces events (signups over HTTP) while delivering them
// to a loopback receiver; SIGKILL lands at random moments; the server
// restarts on the same database. At the end every acknowledged signup (each
// 201 is a committed change whose event must go out) has reached the
// receiver with a valid Standard Webhooks signature, and every duplicate (a
// delivery cut by the kill, sent again) carries the same webhook-id.
// Then two instances on one PostgreSQL database, one of them killed: the
// survivor delivers the victim's leftovers, and no event is ever being sent
// by both at once.
//
// WEBHOOK_KILL_POINTS (default 4) kills per engine; WEBHOOK_CRASH_CLIENTS
// (default 4) concurrent signup clients; each kill lands 500..2500 ms into
// a round's traffic.
import { afterAll, describe, expect, it } from "vitest";
import { chooseEngines, type EngineTarget } from "./engines.js";
import { call, num, randomPassword, sleep, startServerProcess, stopServerProcess, summary, uniqueEmail, type ServerChild } from "./harness.js";
import { newWebhookSecret, startWebhookReceiver, type Received, type WebhookReceiver } from "../helpers/webhook-receiver.js";

const KILL_POINTS = num("WEBHOOK_KILL_POINTS", 4);
const CLIENTS = num("WEBHOOK_CRASH_CLIENTS", 4);
/** Only so that a failure names the missing events instead of hanging until the suite's timeout. */
const ARRIVAL_DEADLINE_MS = num("WEBHOOK_ARRIVAL_DEADLINE_MS", 120_000);

interface Ledger {
  /** User ids of signups answered 201. */
  acked: string[];
  /** Signups whose answer was lost to the kill: their event may or may not go out. */
  unknown: number;
  violations: string[];
}

/** The server's webhook settings: a short attempt timeout, so a lease left by a killed process runs out soon. */
const webhookEnv = (receiver: WebhookReceiver, secret: string): Record<string, string> => ({
  WEBHOOK_URL: receiver.url,
  WEBHOOK_SECRET: secret,
  WEBHOOK_POLL_INTERVAL: "20ms",
  WEBHOOK_TIMEOUT: "1s",
});

/** One client: signups, one at a time, until one fails (its server died) or `stop()` says so. */
async function signups(base: string, ledger: Ledger, stop: () => boolean = () => false): Promise<void> {
  while (!stop()) {
    let res;
    try {
      res = await call(base, "POST", "/signup", { body: { email: uniqueEmail("hook"), password: randomPassword() } });
    } catch {
      ledger.unknown++;
      return;
    }
    if (res.status === 201) ledger.acked.push(res.body.user.id as string);
    else ledger.violations.push(`signup answered ${res.status} during traffic`);
  }
}

const signupsOf = (received: Received[]) => {
  const byUser = new Map<string, Received[]>();
  for (const r of received) {
    if (r.payload?.type !== "signup" || r.answered !== 200 || !r.payload.data.userId) continue;
    byUser.set(r.payload.data.userId, [...(byUser.get(r.payload.data.userId) ?? []), r]);
  }
  return byUser;
};

/** Waits until every acknowledged signup's event has been acknowledged by the receiver, then checks what arrived. */
async function expectAllDelivered(receiver: WebhookReceiver, ledger: Ledger): Promise<{ duplicates: number }> {
  const arrived = (rs: Received[]) => {
    const got = signupsOf(rs);
    return ledger.acked.every((id) => got.has(id));
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ARRIVAL_DEADLINE_MS)));
  const outcome = await Promise.race([receiver.until(arrived).then(() => "ok" as const), deadline]);
  clearTimeout(timer);
  const got = signupsOf(receiver.received);
  const missing = ledger.acked.filter((id) => !got.has(id));
  expect(outcome === "ok" ? [] : missing, "acknowledged signups whose event never arrived").toEqual([]);

  // Every request verified with the reference library.
  expect(receiver.received.filter((r) => !r.verified).map((r) => r.id)).toEqual([]);
  // One event per signup: its duplicates are the same event (same id, same body), never a second one.
  let duplicates = 0;
  for (const [userId, copies] of got) {
    expect(new Set(copies.map((r) => r.id)).size, `signup of ${userId} arrived under several ids`).toBe(1);
    expect(new Set(copies.map((r) => r.body)).size, `signup of ${userId} arrived with different bodies`).toBe(1);
    duplicates += copies.length - 1;
  }
  // The webhook-id is unique to its event: no two users' signups share one.
  const idOwners = new Map<string, string>();
  for (const [userId, copies] of got) {
    const owner = idOwners.get(copies[0]!.id);
    expect(owner, `webhook-id ${copies[0]!.id} used for two events`).toBeUndefined();
    idOwners.set(copies[0]!.id, userId);
  }
  return { duplicates };
}

const engines = await chooseEngines();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

describe("webhooks under SIGKILL: every acknowledged change's event arrives, duplicates share their id", () => {
  for (const engine of engines) {
    it.skipIf(engine.skip !== undefined)(`${engine.name}: ${KILL_POINTS} kill points`, async () => {
      const target: EngineTarget = await engine.prepare();
      const secret = newWebhookSecret();
      const receiver = await startWebhookReceiver(secret);
      let server: ServerChild | undefined;
      cleanups.push(async () => {
        await stopServerProcess(server);
        await receiver.close();
        await target.cleanup();
      });
      const env = { ...target.env, ...webhookEnv(receiver, secret) };
      const ledger: Ledger = { acked: [], unknown: 0, violations: [] };

      for (let round = 1; round <= KILL_POINTS; round++) {
        server = await startServerProcess(env);
        const base = server.url;
        const clients = Array.from({ length: CLIENTS }, () => signups(base, ledger));
        await sleep(500 + Math.random() * 2000);
        server.kill("SIGKILL");
        expect((await server.exited).signal).toBe("SIGKILL");
        await Promise.all(clients);
        expect(ledger.violations).toEqual([]);
      }
      // The last start delivers what the kills left: unsent events, and leased ones once their lease runs out.
      server = await startServerProcess(env);
      const { duplicates } = await expectAllDelivered(receiver, ledger);
      await stopServerProcess(server);
      server = undefined;
      summary(`webhooks-crash/${engine.name}`, {
        kill_points: KILL_POINTS,
        acknowledged_signups: ledger.acked.length,
        cut_signups: ledger.unknown,
        deliveries_received: receiver.received.length,
        duplicates,
      });
      expect(ledger.acked.length).toBeGreaterThan(0);
    });
  }
});

const postgres = engines.find((e) => e.name === "postgres");

describe("webhooks on two instances over PostgreSQL, one killed", () => {
  it.skipIf(!postgres || postgres.skip !== undefined)("the survivor delivers everything; no event is sent by both at once", async () => {
    const target = await postgres!.prepare();
    const secret = newWebhookSecret();
    const receiver = await startWebhookReceiver(secret);
    // Each answer takes a moment: two instances sending one event at once would show as an overlap.
    receiver.delay(20);
    const servers: (ServerChild | undefined)[] = [];
    cleanups.push(async () => {
      for (const s of servers) await stopServerProcess(s);
      await receiver.close();
      await target.cleanup();
    });
    const env = { ...target.env, ...webhookEnv(receiver, secret) };
    const ledger: Ledger = { acked: [], unknown: 0, violations: [] };

    const victim = await startServerProcess(env);
    const survivor = await startServerProcess(env);
    servers.push(victim, survivor);
    let stopSurvivorTraffic = false;
    const toVictim = Array.from({ length: CLIENTS / 2 || 1 }, () => signups(victim.url, ledger));
    const toSurvivor = Array.from({ length: CLIENTS / 2 || 1 }, () => signups(survivor.url, ledger, () => stopSurvivorTraffic));
    await sleep(300 + Math.random() * 1200);
    victim.kill("SIGKILL");
    expect((await victim.exited).signal).toBe("SIGKILL");
    await Promise.all(toVictim);
    // The survivor goes on taking signups for a while after the kill, then stops.
    await sleep(500);
    stopSurvivorTraffic = true;
    await Promise.all(toSurvivor);
    expect(ledger.violations).toEqual([]);

    const { duplicates } = await expectAllDelivered(receiver, ledger);
    expect(receiver.overlaps, "events sent by two instances at once").toEqual([]);
    summary("webhooks-crash/postgres-two-instances", {
      acknowledged_signups: ledger.acked.length,
      cut_signups: ledger.unknown,
      deliveries_received: receiver.received.length,
      duplicates,
    });
    expect(ledger.acked.length).toBeGreaterThan(0);
  });
});
