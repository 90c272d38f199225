// The one way the console talks to the box: credentials included, the CSRF token on every
// state-changing request, and RFC 9457 problem documents turned into ApiError.
import {t, has} from './i18n.js';

let csrfToken = '';

// What a user reads about a problem comes from the string catalogue, keyed by the problem's
// machine-readable type (/problems/slot-taken -> problem.slot-taken), never the server's
// English `detail`. Per-field errors carry a `code` (field.required, pnr.invalid-checksum).
export function problemCode(problem) {
  return String(problem?.type || '').replace(/^\/problems\//, '');
}

export function fieldErrorText(err) {
  const code = err?.code || 'invalid';
  // A personnummer's own reasons (pnr.check-digit, ...) live under their own key.
  if (code.startsWith('pnr.') && has(code)) return t(code, err);
  return has(`field.${code}`) ? t(`field.${code}`, err) : t('field.invalid');
}

export function problemText(status, problem = {}) {
  const code = problemCode(problem);
  if (code === 'invalid-personnummer' && has(`pnr.${problem.reason}`)) return t(`pnr.${problem.reason}`);
  if (code === 'script-refused' && has(`lua.refused.${problem.kind}`)) return t(`lua.refused.${problem.kind}`, problem);
  if (code === 'journal-access-refused' && has(`journal.refused.${problem.reason}`)) return t(`journal.refused.${problem.reason}`);
  if (code && has(`problem.${code}`)) {
    const vars = {...problem};
    // The clinic's own hook scripts write their refusals in Swedish: those are shown as given.
    if (!['booking-refused', 'vetoed'].includes(code)) delete vars.detail;
    return t(`problem.${code}`, vars);
  }
  const errs = Array.isArray(problem.errors) ? problem.errors : [];
  if (errs.length) return fieldErrorText(errs[0]);
  const generic = `problem.status.${status}`;
  return t(has(generic) ? generic : (status >= 500 ? 'problem.status.500' : 'problem.status.400'));
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problemText(status, problem || {}));
    this.status = status;
    this.problem = problem || {};
    this.code = problemCode(this.problem) || `http-${status}`;
  }
  // Per-field errors ({pointer, code, detail}) of a 400 problem; `text` is the catalogue's.
  get fieldErrors() {
    return (Array.isArray(this.problem.errors) ? this.problem.errors : []).map((e) => ({...e, text: fieldErrorText(e)}));
  }
}

export function setCsrf(token) {
  csrfToken = token || '';
}

async function call(method, path, body) {
  const headers = {Accept: 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new ApiError(res.status, typeof data === 'object' ? data : {});
  return data;
}

// Uploads a file as the raw request body (plugin-set archives).
async function upload(path, file, type) {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {'Content-Type': type, 'X-CSRF-Token': csrfToken, Accept: 'application/json'},
    body: file,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const api = {
  upload,
  get: (path) => call('GET', path),
  post: (path, body = {}) => call('POST', path, body),
  put: (path, body = {}) => call('PUT', path, body),
  patch: (path, body = {}) => call('PATCH', path, body),
  del: (path) => call('DELETE', path),
};
