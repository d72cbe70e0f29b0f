/** The package names under a node_modules tree (nested ones too). */
export function installedPackages(dir: string, into?: Set<string>): Set<string>;
