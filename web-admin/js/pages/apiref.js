// The API reference for IT staff: the box's own OpenAPI document (/api/v1/openapi.json)
// rendered here, without any outside viewer or CDN. The chrome is Swedish (string catalogue);
// summaries, field names and schema keywords are the API's own and stay in English, marked
// lang="en" (screen readers switch voice; the browser tests' Swedish check skips them).
import {h, table} from '../dom.js';
import {t} from '../i18n.js';

// The OpenAPI document's methods, in the order an operation list shows them.
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

// Follows a local "$ref" (#/components/...) of the document, once.
function deref(doc, s) {
  if (s && typeof s.$ref === 'string' && s.$ref.startsWith('#/')) {
    return s.$ref.slice(2).split('/').reduce((o, k) => (o ? o[k] : undefined), doc) || {};
  }
  return s || {};
}

// One line for a schema: its type(s) and the constraints a client must keep.
function schemaText(doc, raw) {
  const s = deref(doc, raw);
  const parts = [];
  const type = Array.isArray(s.type) ? s.type.join(' | ') : s.type;
  if (type === 'array' && s.items) parts.push(`array<${schemaText(doc, s.items)}>`);
  else if (type) parts.push(type);
  if (s.enum) parts.push(`enum: ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  if (s.format) parts.push(`format: ${s.format}`);
  if (s.minLength !== undefined || s.maxLength !== undefined) parts.push(`length ${s.minLength ?? 0}..${s.maxLength ?? '∞'}`);
  if (s.minimum !== undefined || s.maximum !== undefined) parts.push(`range ${s.minimum ?? '-∞'}..${s.maximum ?? '∞'}`);
  if (s.minItems !== undefined || s.maxItems !== undefined) parts.push(`items ${s.minItems ?? 0}..${s.maxItems ?? '∞'}`);
  if (s.pattern) parts.push(`pattern: ${s.pattern}`);
  if (s.example !== undefined) parts.push(`e.g. ${JSON.stringify(s.example)}`);
  return parts.join(', ') || 'any';
}

// The members of an object schema as table rows, nested objects indented by their path.
function fieldRows(doc, raw, prefix = '') {
  const s = deref(doc, raw);
  const required = new Set(s.required || []);
  const rows = [];
  for (const [name, sub] of Object.entries(s.properties || {})) {
    const d = deref(doc, sub);
    rows.push(h('tr', {},
      h('td', {}, h('code', {}, prefix + name)),
      h('td', {}, required.has(name) ? t('api.yes') : t('api.no')),
      h('td', {lang: 'en'}, schemaText(doc, d)),
      h('td', {lang: 'en'}, d.description || '')));
    if (d.properties) rows.push(...fieldRows(doc, d, `${prefix}${name}.`));
  }
  return rows;
}

function bodySection(doc, op) {
  const rb = op.requestBody;
  if (!rb) return h('p', {}, t('api.noBody'));
  const [type, media] = Object.entries(rb.content || {})[0] || ['', {}];
  const schema = deref(doc, media.schema);
  const out = [h('h4', {}, t('api.body'), ' ', h('code', {}, type))];
  if (schema.description) out.push(h('p', {lang: 'en'}, schema.description));
  const rows = fieldRows(doc, schema);
  if (rows.length) {
    out.push(table([t('api.field'), t('api.required'), t('api.schema'), t('api.description')], rows));
    if (schema.additionalProperties === false) out.push(h('p', {class: 'hint'}, t('api.closed')));
  } else if (schema.type || schema.$ref) {
    out.push(h('p', {lang: 'en'}, h('code', {}, schemaText(doc, schema))));
  }
  return h('div', {}, ...out);
}

function paramSection(doc, op) {
  const params = (op.parameters || []).map((p) => deref(doc, p));
  if (!params.length) return null;
  return h('div', {}, h('h4', {}, t('api.parameters')),
    table([t('api.name'), t('api.in'), t('api.required'), t('api.schema'), t('api.description')],
      params.map((p) => h('tr', {},
        h('td', {}, h('code', {}, p.name)), h('td', {}, p.in),
        h('td', {}, p.required ? t('api.yes') : t('api.no')),
        h('td', {lang: 'en'}, schemaText(doc, p.schema)), h('td', {lang: 'en'}, p.description || '')))));
}

function responseSection(doc, op) {
  const rows = Object.entries(op.responses || {}).map(([status, r0]) => {
    const r = deref(doc, r0);
    const types = Object.keys(r.content || {}).join(', ');
    return h('tr', {}, h('td', {}, h('code', {}, status)), h('td', {lang: 'en'}, r.description || ''), h('td', {}, types));
  });
  return h('div', {}, h('h4', {}, t('api.responses')), table([t('api.status'), t('api.description'), t('api.type')], rows));
}

function operation(doc, method, path, op) {
  const roles = op['x-roles'] || [];
  const access = !op.security ? t('api.anyone') : roles.length ? roles.map((r) => t(`role.${r}`)).join(', ') : t('api.loggedIn');
  return h('details', {class: 'api-op', 'data-op': `${method.toUpperCase()} ${path}`},
    h('summary', {}, h('code', {class: `api-method api-${method}`}, method.toUpperCase()), ' ', h('code', {}, path),
      ' – ', h('span', {lang: 'en'}, op.summary || '')),
    h('p', {}, t('api.access', {who: access})),
    paramSection(doc, op), bodySection(doc, op), responseSection(doc, op));
}

export default async function apiRefPage({api}) {
  const doc = await api.get('/api/v1/openapi.json');
  const byTag = new Map();
  let count = 0;
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || 'core';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push({method, path, op});
      ++count;
    }
  }
  const sections = h('div', {});
  const filter = h('input', {type: 'search', id: 'api-filter', autocomplete: 'off'});
  const shown = h('p', {'aria-live': 'polite'});
  const render = () => {
    const q = filter.value.trim().toLowerCase();
    let n = 0;
    const out = [];
    for (const tag of [...byTag.keys()].sort()) {
      const ops = byTag.get(tag).filter(({method, path, op}) =>
        !q || `${method} ${path} ${op.summary || ''}`.toLowerCase().includes(q));
      if (!ops.length) continue;
      n += ops.length;
      // A tag is a plugin's id (or "core"): an identifier, shown as code.
      out.push(h('section', {'aria-labelledby': `api-tag-${tag}`}, h('h2', {id: `api-tag-${tag}`}, h('code', {}, tag)),
        ...ops.map(({method, path, op}) => operation(doc, method, path, op))));
    }
    sections.replaceChildren(...(out.length ? out : [h('p', {}, t('api.none'))]));
    shown.textContent = t('api.shown', {n, total: count});
  };
  filter.addEventListener('input', render);
  render();
  const info = doc.info || {};
  return h('div', {},
    h('h1', {}, t('api.title')),
    h('p', {}, t('api.intro', {version: info.version || '', openapi: doc.openapi || ''})),
    h('p', {}, h('a', {href: '/api/v1/openapi.json', download: 'openapi.json'}, t('api.download'))),
    h('p', {}, h('label', {for: 'api-filter'}, t('api.filter')), ' ', filter),
    shown, sections);
}
