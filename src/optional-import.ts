// pg, ioredis, nodemailer and prom-client are optional peer dependencies: an
// SQLite app without metrics never installs them. They are imported only when the configuration asks for
// them, and a missing one is one line that names the package to install.

export class MissingPackageError extends Error {
  override name = "MissingPackageError";
}

/** True when `err` is Node failing to find `pkg` itself (not a file inside it, not another package). */
function isMissingPackage(err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return (
    (e?.code === "ERR_MODULE_NOT_FOUND" || e?.code === "MODULE_NOT_FOUND") &&
    typeof e.message === "string" &&
    e.message.includes(`'${pkg}'`)
  );
}

/**
 * Runs `load` (a dynamic import of `pkg`, or of our module that imports it);
 * when `pkg` is not installed, throws a MissingPackageError saying which
 * setting needs it, e.g. `DATABASE_URL is a postgres:// URL: install the "pg" package (npm install pg)`.
 */
export async function importOptional<T>(pkg: string, neededFor: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (isMissingPackage(err, pkg)) {
      throw new MissingPackageError(`${neededFor}: install the "${pkg}" package (npm install ${pkg})`);
    }
    throw err;
  }
}

/** importOptional for a CommonJS package needed synchronously (prom-client, when METRICS_TOKEN is set). */
export function requireOptional<T>(pkg: string, neededFor: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (isMissingPackage(err, pkg)) {
      throw new MissingPackageError(`${neededFor}: install the "${pkg}" package (npm install ${pkg})`);
    }
    throw err;
  }
}
