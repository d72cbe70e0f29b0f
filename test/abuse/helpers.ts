// Shared by the abuse tests: servers with the real (default) limits, and
// requests that claim to come from a given client through a trusted proxy.
import { request, type ApiResponse } from "../helpers/http.js";
import { RELAXED_ABUSE_LIMITS, startTestServer, type TestServer } from "../helpers/server.js";

/** An empty value makes config.ts use its documented default. */
export const DEFAULT_LIMITS: Record<string, string> = Object.fromEntries(
  Object.keys(RELAXED_ABUSE_LIMITS).map((k) => [k, ""]),
);

export const TOO_MANY = { error: "Too many attempts, try again later" };
export const PASSWORD = "correct horse battery staple";

/** A server with the default limits; TRUST_PROXY=1 so tests can speak for many clients through X-Forwarded-For. */
export function startLimitedServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer({ env: { ...DEFAULT_LIMITS, PASSWORD_REJECT_COMMON: "false", TRUST_PROXY: "1", ...env } });
}

export function login(srv: TestServer, email: string, password: string, ip?: string): Promise<ApiResponse> {
  return request(srv.url, "POST", "/login", {
    body: { email, password },
    headers: ip ? { "x-forwarded-for": ip } : {},
  });
}

let setupIps = 0;
/** Signs up from `ip`, or from a fresh address each time so setup never meets the signup limit. */
export function signup(srv: TestServer, email: string, password = PASSWORD, ip?: string): Promise<ApiResponse> {
  const from = ip ?? `198.18.${(++setupIps >> 8) & 255}.${setupIps & 255}`;
  return request(srv.url, "POST", "/signup", { body: { email, password }, headers: { "x-forwarded-for": from } });
}

/** Retry-After as the number of whole seconds it must be. */
export function retryAfter(res: ApiResponse): number {
  const raw = res.headers.get("retry-after");
  if (raw === null || !/^\d+$/.test(raw)) throw new Error(`Retry-After is not whole seconds: ${raw}`);
  return Number(raw);
}
