// Client IP: the socket address unless TRUST_PROXY says a proxy may name the client.
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseTrustProxy } from "../../src/config.js";
import { forwardedChain, resolveClientIp } from "../../src/http/client-ip.js";
import { ipKey } from "../../src/auth/rate-limit.js";
import { client, request, uniqueEmail } from "../helpers/http.js";
import type { TestServer } from "../helpers/server.js";
import { PASSWORD, signup, startLimitedServer } from "./helpers.js";

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.destroy();
  srv = undefined;
});

/** 21 logins in a minute, each claiming another client: 429 at the end iff the claims are ignored. */
async function twentyOneSpoofedLogins(server: TestServer, header: (i: number) => Record<string, string>) {
  let last = 0;
  for (let i = 0; i < 21; i++) {
    const res = await request(server.url, "POST", "/login", {
      body: { email: uniqueEmail(), password: "wrong-password" },
      headers: header(i),
    });
    last = res.status;
  }
  return last;
}

describe("TRUST_PROXY over HTTP", () => {
  it("ignores a spoofed X-Forwarded-For by default: the socket address is the client", async () => {
    srv = await startLimitedServer({ TRUST_PROXY: "" });
    expect(await twentyOneSpoofedLogins(srv, (i) => ({ "x-forwarded-for": `203.0.113.${i}` }))).toBe(429);
  });

  it("ignores a spoofed Forwarded header by default", async () => {
    srv = await startLimitedServer({ TRUST_PROXY: "" });
    expect(await twentyOneSpoofedLogins(srv, (i) => ({ forwarded: `for=203.0.113.${i}` }))).toBe(429);
  });

  it("honours X-Forwarded-For with a hop count", async () => {
    srv = await startLimitedServer({ TRUST_PROXY: "1" });
    expect(await twentyOneSpoofedLogins(srv, (i) => ({ "x-forwarded-for": `203.0.113.${i}` }))).toBe(401);
  });

  it("honours Forwarded (when it is the configured header) from a trusted proxy address and ignores it from an untrusted one", async () => {
    srv = await startLimitedServer({ TRUST_PROXY: "127.0.0.1/32, ::1", TRUST_PROXY_HEADER: "forwarded" });
    expect(await twentyOneSpoofedLogins(srv, (i) => ({ forwarded: `for="203.0.113.${i}:1234";proto=https` }))).toBe(401);
    await srv.destroy();
    srv = await startLimitedServer({ TRUST_PROXY: "10.0.0.0/8", TRUST_PROXY_HEADER: "forwarded" });
    expect(await twentyOneSpoofedLogins(srv, (i) => ({ forwarded: `for=203.0.113.${i}` }))).toBe(429);
  });

  it("reads only X-Forwarded-For by default: a forged Forwarded header names nobody", async () => {
    // The proxy appends the real client (192.0.2.1) to X-Forwarded-For and passes the client's own Forwarded on.
    srv = await startLimitedServer({ TRUST_PROXY: "1" });
    const forged = (i: number) => ({ forwarded: `for=1.2.3.${i}`, "x-forwarded-for": "192.0.2.1" });
    expect(await twentyOneSpoofedLogins(srv, forged)).toBe(429); // one bucket: 192.0.2.1's

    // The session records the proxy's hop, not the forged one.
    const email = uniqueEmail();
    expect((await signup(srv, email)).status).toBe(201);
    const browser = client(srv.url);
    const headers = { forwarded: "for=1.2.3.4", "x-forwarded-for": "192.0.2.44" };
    expect((await browser.post("/login", { email, password: PASSWORD }, { headers })).status).toBe(200);
    const listed = await browser.get("/sessions");
    expect(listed.body.sessions.map((s: { ip: string }) => s.ip)).toEqual(["192.0.2.44"]);
  });

  it("with TRUST_PROXY_HEADER=forwarded, reads only Forwarded: a forged X-Forwarded-For names nobody", async () => {
    srv = await startLimitedServer({ TRUST_PROXY: "1", TRUST_PROXY_HEADER: "forwarded" });
    const forged = (i: number) => ({ "x-forwarded-for": `203.0.113.${i}`, forwarded: "for=192.0.2.1" });
    expect(await twentyOneSpoofedLogins(srv, forged)).toBe(429);
  });

  it("with one trusted hop, only the address the proxy appended counts, not what the client prepended", async () => {
    srv = await startLimitedServer({ TRUST_PROXY: "1" });
    // The client sends "X-Forwarded-For: <random>", the proxy appends the real client 192.0.2.1.
    expect(await twentyOneSpoofedLogins(srv, (i) => ({ "x-forwarded-for": `203.0.113.${i}, 192.0.2.1` }))).toBe(429);
  });
});

describe("resolveClientIp", () => {
  const chain = (xff: string) => forwardedChain(new Headers({ "x-forwarded-for": xff }), "x-forwarded-for");

  it("walks hop counts from the nearest proxy", () => {
    expect(resolveClientIp("10.0.0.1", chain("1.1.1.1, 2.2.2.2"), { hops: 1 })).toBe("2.2.2.2");
    expect(resolveClientIp("10.0.0.1", chain("1.1.1.1, 2.2.2.2"), { hops: 2 })).toBe("1.1.1.1");
    expect(resolveClientIp("10.0.0.1", chain("1.1.1.1, 2.2.2.2"), { hops: 5 })).toBe("1.1.1.1");
    expect(resolveClientIp("10.0.0.1", chain("1.1.1.1"), { hops: 0 })).toBe("10.0.0.1");
    expect(resolveClientIp("10.0.0.1", [], { hops: 1 })).toBe("10.0.0.1");
  });

  it("walks trusted addresses and stops at the first untrusted or unreadable one", () => {
    const trust = parseTrustProxy("10.0.0.0/8")!;
    expect(resolveClientIp("10.0.0.1", chain("1.1.1.1, 10.9.9.9"), trust)).toBe("1.1.1.1");
    expect(resolveClientIp("10.0.0.1", chain("1.1.1.1, 2.2.2.2"), trust)).toBe("2.2.2.2");
    expect(resolveClientIp("192.0.2.5", chain("1.1.1.1"), trust)).toBe("192.0.2.5");
    expect(resolveClientIp("10.0.0.1", chain("1.1.1.1, not-an-ip"), trust)).toBe("10.0.0.1");
  });

  it("reads Forwarded (RFC 7239) with quotes, ports and IPv6 brackets", () => {
    const headers = new Headers({ forwarded: 'for=192.0.2.60;proto=http, For="[2001:DB8::1]:4711", for=unknown' });
    expect(forwardedChain(headers, "forwarded")).toEqual(["192.0.2.60", "2001:db8::1", null]);
  });

  it("reads the configured header only, never the other one", () => {
    const both = new Headers({ forwarded: "for=1.2.3.4", "x-forwarded-for": "192.0.2.1" });
    expect(forwardedChain(both, "x-forwarded-for")).toEqual(["192.0.2.1"]);
    expect(forwardedChain(both, "forwarded")).toEqual(["1.2.3.4"]);
    expect(forwardedChain(new Headers({ forwarded: "for=1.2.3.4" }), "x-forwarded-for")).toEqual([]);
    expect(forwardedChain(new Headers({ "x-forwarded-for": "192.0.2.1" }), "forwarded")).toEqual([]);
  });

  it("validates TRUST_PROXY_HEADER (default x-forwarded-for)", () => {
    expect(loadConfig({}).trustProxyHeader).toBe("x-forwarded-for");
    expect(loadConfig({ TRUST_PROXY_HEADER: "Forwarded" }).trustProxyHeader).toBe("forwarded");
    expect(() => loadConfig({ TRUST_PROXY_HEADER: "x-real-ip" })).toThrow(
      new ConfigError('TRUST_PROXY_HEADER must be x-forwarded-for or forwarded, got "x-real-ip"'),
    );
  });

  it("validates TRUST_PROXY", () => {
    expect(parseTrustProxy(undefined)).toBeNull();
    expect(parseTrustProxy("false")).toBeNull();
    expect(parseTrustProxy("2")).toEqual({ hops: 2 });
    expect(() => parseTrustProxy("true")).toThrow(ConfigError);
    expect(() => parseTrustProxy("10.0.0.0/33")).toThrow(/TRUST_PROXY must be a hop count/);
    expect(() => parseTrustProxy("example.com")).toThrow(ConfigError);
  });
});

describe("ipKey", () => {
  it("keeps IPv4 as is and folds IPv6 to its /64", () => {
    expect(ipKey("192.0.2.1")).toBe("192.0.2.1");
    expect(ipKey("2001:db8:1:2::5")).toBe("2001:db8:1:2::/64");
    expect(ipKey("2001:0db8:0001:0002:ffff:0:0:1")).toBe("2001:db8:1:2::/64");
    expect(ipKey("::1")).toBe("0:0:0:0::/64");
    expect(ipKey(null)).toBeNull(); // an unknown address is never a key (see test/abuse/fetch-client-ip.test.ts)
  });
});
