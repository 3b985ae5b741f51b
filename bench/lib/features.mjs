/**
 * Rows for features other branches are building appear once the running worker has them: the
 * bench asks the worker's own OpenAPI document, so a row never guesses from the file tree.
 */
export async function apiPaths(url) {
  const res = await fetch(`${url}/v1/openapi.json`);
  if (!res.ok) throw new Error(`GET /v1/openapi.json answered ${res.status}`);
  return new Set(Object.keys((await res.json()).paths ?? {}));
}

/** What a row says while its feature is not on this branch yet. */
export const notAvailable = (path, where) => ({ available: false, reason: `not available yet: ${path} is not in this build's API (${where})` });
