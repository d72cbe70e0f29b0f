// What every route group receives: built once in createLatchkey(), passed explicitly.
import type { Accounts } from "./auth/accounts.js";
import type { Authenticate, CheckSession } from "./auth/authenticate.js";
import type { Bearer } from "./auth/bearer.js";
import type { PasswordResets } from "./auth/reset.js";
import type { EmailVerification } from "./auth/verification.js";
import type { EmailChanges } from "./auth/email-change.js";
import type { Invitations } from "./auth/invitations.js";
import type { Mfa } from "./auth/mfa.js";
import type { Notices } from "./auth/notices.js";
import type { CookieOptions } from "./auth/cookies.js";
import type { PasswordHasher } from "./auth/passwords.js";
import type { SessionManager } from "./auth/sessions.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { ClientIpResolver } from "./http/client-ip.js";
import type { Logger } from "./log.js";
import type { Metrics } from "./metrics.js";
import type { Store } from "./store/store.js";

export interface Deps {
  config: Config;
  store: Store;
  sessions: SessionManager;
  /** Every change to an account, and what it ends (auth/accounts.ts). */
  accounts: Accounts;
  passwords: PasswordHasher;
  /** What a Cookie header proves (authenticate() without the Response). */
  checkSession: CheckSession;
  authenticate: Authenticate;
  cookies: Required<CookieOptions>;
  clock: Clock;
  logger: Logger;
  bearer: Bearer;
  resets: PasswordResets;
  /** EMAIL_VERIFICATION: links mailed at signup and on request. */
  verification: EmailVerification;
  /** POST /email and its two links (auth/email-change.ts). */
  emailChanges: EmailChanges;
  /** Security notices by mail (auth/notices.ts). */
  notices: Notices;
  /** Second factors and two-step login challenges (auth/mfa.ts). */
  mfa: Mfa;
  /** Accounts an admin invites (auth/invitations.ts). */
  invitations: Invitations;
  /** The client's address (socket or clientIp hook, then TRUST_PROXY); null when unknown. */
  clientIp: ClientIpResolver;
  /** GET /metrics's series (noMetrics without METRICS_TOKEN). */
  metrics: Metrics;
}

export interface AppEnv {
  Variables: { requestId: string };
}
