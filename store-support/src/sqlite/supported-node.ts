/** The oldest Node.js major the embedded store runs on: better-sqlite3 13's Node-API binary needs 22. */
export const MIN_NODE_MAJOR = 22;

/**
 * Refuses, with a message, a Node.js older than the floor: better-sqlite3 13 crashes the process (SIGSEGV)
 * when it opens a database on Node 20, which would leave a user with no clue.
 */
export function assertSupportedNode(version: string = process.versions.node): void {
  const major = Number(version.split(".")[0]);
  if (!(major >= MIN_NODE_MAJOR)) {
    throw new Error(
      `the embedded store needs Node.js ${MIN_NODE_MAJOR} or later, not ${version}: run it through npm scripts or ` +
        "npx, which use the project's Node 22 (node_modules/.bin/node, installed by npm ci)",
    );
  }
}
