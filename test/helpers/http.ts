// A small HTTP client over real fetch, with a cookie of its own.
export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
  setCookie: string | null;
}

export interface RequestOptions {
  body?: unknown;
  /** Raw body string (sent as is, with the given content type). */
  raw?: string;
  headers?: Record<string, string>;
  cookie?: string;
}

export async function request(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  if (options.cookie) headers.cookie = options.cookie;
  const res = await fetch(baseUrl + path, { method, headers, body, redirect: "manual" });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text, setCookie: res.headers.get("set-cookie") };
}

/** "session=abc; HttpOnly; ..." -> "session=abc" (what a browser sends back). */
export function cookiePair(setCookie: string | null): string {
  if (!setCookie) throw new Error("no Set-Cookie header");
  return setCookie.split(";")[0]!;
}

/**
 * A client that keeps the cookies it is given, like a browser or curl -b/-c:
 * each Set-Cookie replaces the cookie of its name, Max-Age=0 removes it.
 * `cookie` is the Cookie header it sends (undefined when it has none).
 */
export function client(baseUrl: string) {
  const jar = new Map<string, string>();
  const header = () => (jar.size ? [...jar].map(([name, value]) => `${name}=${value}`).join("; ") : undefined);
  const send = async (method: string, path: string, options: RequestOptions = {}) => {
    const res = await request(baseUrl, method, path, { cookie: header(), ...options });
    for (const set of res.headers.getSetCookie()) {
      const pair = cookiePair(set);
      const at = pair.indexOf("=");
      if (/Max-Age=0(;|$)/.test(set)) jar.delete(pair.slice(0, at));
      else jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return res;
  };
  return {
    get cookie() {
      return header();
    },
    set cookie(value: string | undefined) {
      jar.clear();
      for (const pair of value ? value.split(/;\s*/) : []) {
        const at = pair.indexOf("=");
        if (at > 0) jar.set(pair.slice(0, at), pair.slice(at + 1));
      }
    },
    get: (path: string, options?: RequestOptions) => send("GET", path, options),
    post: (path: string, body?: unknown, options?: RequestOptions) => send("POST", path, { body, ...options }),
    patch: (path: string, body?: unknown, options?: RequestOptions) => send("PATCH", path, { body, ...options }),
    delete: (path: string, body?: unknown, options?: RequestOptions) => send("DELETE", path, { body, ...options }),
    send,
  };
}

let counter = 0;
/** A unique email per call, so tests never collide. */
export function uniqueEmail(prefix = "user"): string {
  return `${prefix}-${process.pid}-${Date.now()}-${++counter}@example.com`;
}

/** A bearer client's login (POST /token/login), and whether its tokens still work. */
export async function bearerLogin(url: string, email: string, password: string) {
  const res = await request(url, "POST", "/token/login", { body: { email, password } });
  if (res.status !== 200) throw new Error(`POST /token/login answered ${res.status}: ${res.text}`);
  const { accessToken, refreshToken } = res.body as { accessToken: string; refreshToken: string };
  return {
    accessWorks: async () => (await request(url, "GET", "/token/me", { headers: { authorization: `Bearer ${accessToken}` } })).status === 200,
    refreshWorks: async () => (await request(url, "POST", "/token/refresh", { body: { refreshToken } })).status === 200,
  };
}
