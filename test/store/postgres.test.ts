import { createPostgresStore } from "../../src/store/postgres/index.js";
import { dropSchema, freshSchemaName, schemaUrl, servicesAvailable } from "../helpers/services.js";
import { storeContract } from "./contract.js";
import { describe } from "vitest";

const available = await servicesAvailable(["postgres"], "PostgreSQL store contract");

describe.skipIf(!available)("postgres", () => {
  storeContract("postgres", async () => {
    const schema = freshSchemaName();
    const store = await createPostgresStore(schemaUrl(schema));
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropSchema(schema);
      },
    };
  });
});
