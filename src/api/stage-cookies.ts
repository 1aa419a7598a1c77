import type { ApiResponse } from './aws/protocol/http.js';

/** Says that a stage answer's cookies were dropped (withoutCookies, withOwnCookies), and why. */
export const COOKIES_DROPPED = 'x-versa-set-cookie-dropped';

/**
 * A stage's answer on the path-style URL comes from the console's host, and a cookie it set would be that
 * host's: sent to the console, to every other stage, and (cookies ignore ports) to every server on
 * 127.0.0.1 or localhost. Its Set-Cookie headers are dropped, and a header says so; a stage's own host
 * (`{api}.execute-api.localhost`) keeps them, as `{api}.execute-api.amazonaws.com` does on AWS.
 */
export function withoutCookies(out: ApiResponse): ApiResponse {
  return dropCookies(out, () => true, "a path-style stage URL is the console's host; call {api}.execute-api.localhost for cookies");
}

/**
 * A stage's answer on its own host (`{api}.execute-api.localhost`) keeps its host-only cookies and those
 * whose Domain is that host or below it. A wider Domain (`execute-api.localhost`, `localhost`) would
 * reach every other API's host and the console; on AWS `execute-api.amazonaws.com` is a public suffix,
 * where browsers refuse such a cookie, but `localhost` is on no such list, so Versa drops it.
 */
export function withOwnCookies(out: ApiResponse, host: string): ApiResponse {
  return dropCookies(
    out,
    (line) => cookieDomains(line).some((domain) => domain !== host && !domain.endsWith(`.${host}`)),
    `a Domain other than ${host} or below it would reach every API's host and the console`,
  );
}

/**
 * The Domain attributes of a Set-Cookie line as a browser reads them (RFC 6265 5.2): after the name and
 * value, `;`-separated attributes whose name is matched without regard to case and whose value is trimmed
 * of spaces and tabs, lower-cased and stripped of one leading dot; an empty value is ignored. Browsers
 * take the last one; every one is returned, so that a line is kept only when each would be.
 */
export function cookieDomains(line: string): string[] {
  const domains: string[] = [];
  for (const attribute of line.split(';').slice(1)) {
    const eq = attribute.indexOf('=');
    if (eq < 0 || trimWsp(attribute.slice(0, eq)).toLowerCase() !== 'domain') continue;
    const value = trimWsp(attribute.slice(eq + 1)).toLowerCase();
    const domain = value.startsWith('.') ? value.slice(1) : value;
    if (value !== '') domains.push(domain);
  }
  return domains;
}

/** Trims what RFC 6265 calls WSP (space and horizontal tab), and nothing else a browser would keep. */
function trimWsp(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}

function dropCookies(out: ApiResponse, drop: (line: string) => boolean, why: string): ApiResponse {
  let dropped = 0;
  for (const name of Object.keys(out.headers)) {
    if (name.toLowerCase() !== 'set-cookie') continue;
    const lines = [out.headers[name]!].flat();
    const kept = lines.filter((line) => !drop(line));
    dropped += lines.length - kept.length;
    if (kept.length === lines.length) continue;
    if (kept.length === 0) delete out.headers[name];
    else out.headers[name] = kept;
  }
  if (dropped > 0) out.headers[COOKIES_DROPPED] = `${dropped} Set-Cookie dropped: ${why}`;
  return out;
}
