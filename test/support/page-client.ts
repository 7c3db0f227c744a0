/**
 * A customer's browser reduced to what HTTP tests need: GET and form POST without following
 * redirects, one cookie jar (the CSRF cookie), the link read from an email, the CSRF token read
 * from a page. The real browser test (migration-browser.test.ts) drives Chromium instead.
 */
import type { ReceivedMail } from './smtp-sink.js';

export interface PageResponse {
  status: number;
  text: string;
  headers: Headers;
  location: string | undefined;
}

/** The migration page link in a mail we sent, or undefined. */
export function linkIn(mail: ReceivedMail | undefined): string | undefined {
  return /(https?:\/\/[^\s/]+\/migrate\/[A-Za-z0-9_.-]+)/.exec(mail?.text ?? '')?.[1];
}

export const tokenOf = (link: string) => link.slice(link.lastIndexOf('/') + 1);

/** The `_csrf` value of the first form on a page. */
export function csrfIn(html: string): string | undefined {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
}

export function pageClient() {
  const jar = new Map<string, string>();
  const keep = (headers: Headers) => {
    for (const cookie of headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  };
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  async function send(url: string, init: RequestInit): Promise<PageResponse> {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(jar.size ? { cookie: cookieHeader() } : {}) },
    });
    keep(res.headers);
    return {
      status: res.status,
      text: await res.text(),
      headers: res.headers,
      location: res.headers.get('location') ?? undefined,
    };
  }
  return {
    get: (url: string) => send(url, { method: 'GET' }),
    post: (url: string, form: Record<string, string | string[]>) => {
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries(form)) for (const one of ([] as string[]).concat(v)) body.append(k, one);
      return send(url, {
        method: 'POST',
        body: body.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    },
    forgetCookies: () => jar.clear(),
  };
}
