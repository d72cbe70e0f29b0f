// The TokenStore contract again, through the engines as openStore() builds
// them: PostgreSQL migrated by its versioned migrations (tokens are step 2),
// and PostgreSQL+Redis, where tokens stay in SQL.
import { describe } from "vitest";
import { servicesAvailable } from "../helpers/services.js";
import { twoInstances } from "./two-instances.js";
import { tokenStoreContract } from "./token-store-contract.js";

const pgUp = await servicesAvailable(["postgres"], "TokenStore through the PostgreSQL engine");
const redisUp = pgUp && (await servicesAvailable(["redis"], "TokenStore through the PostgreSQL+Redis engine"));

const fixture = (withRedis: boolean) => async () => {
  const { a, b, close } = await twoInstances("postgres", withRedis);
  return {
    tokens: a.tokens,
    other: b.tokens,
    async createUser(id: string) {
      await a.createUser({ id, email: `${id}@example.com`, passwordHash: "x", role: "user", createdAt: Date.now() });
    },
    close,
  };
};

describe.skipIf(!pgUp)("postgres engine", () => tokenStoreContract("postgres engine", fixture(false)));
describe.skipIf(!redisUp)("postgres+redis engine", () => tokenStoreContract("postgres+redis engine", fixture(true)));
