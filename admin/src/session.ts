/**
 * Where the session token lives: sessionStorage (and React state). The API authenticates with
 * `Authorization: Bearer`, never a cookie, so a token the browser does not send by itself cannot be
 * used by another site (no CSRF), and it is gone when the tab closes. The price is that script on
 * the page could read it; the gateway's CSP (script-src 'self', no inline scripts, no third-party
 * origins) is what keeps foreign script off the page.
 */
const KEY = 'folio.admin.token';

export function loadToken(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: the token lives in memory only
  }
}

export function saveToken(token: string | null): void {
  try {
    if (token) window.sessionStorage.setItem(KEY, token);
    else window.sessionStorage.removeItem(KEY);
  } catch {
    // storage disabled: memory only
  }
}
