// Plugins: state and reason of failure, and each plugin's settings form rendered from its
// schema, with the box's per-field errors shown next to the fields.
import {h, field, table, errorBox, announce} from '../dom.js';
import {t} from '../i18n.js';
import {ApiError} from '../api.js';

function inputFor(name, schema, value) {
  if (schema.enum) {
    const sel = h('select', {name}, schema.enum.map((v) => h('option', {value: v, selected: v === value}, v)));
    return sel;
  }
  if (schema.type === 'boolean') return h('input', {name, type: 'checkbox', checked: value === true});
  if (schema.type === 'integer' || schema.type === 'number')
    return h('input', {name, type: 'number', value: value ?? '', step: schema.type === 'integer' ? '1' : 'any',
      min: schema.minimum, max: schema.maximum});
  return h('input', {name, type: schema.writeOnly ? 'password' : 'text', value: value ?? '', maxlength: schema.maxLength,
    autocomplete: 'off'});
}

function readValue(input, schema) {
  if (schema.type === 'boolean') return input.checked;
  if (schema.type === 'integer' || schema.type === 'number') {
    if (input.value === '') return undefined;
    const n = Number(input.value);
    return Number.isNaN(n) ? input.value : n;
  }
  return input.value;
}

async function settingsForm(api, id) {
  const data = await api.get(`/api/v1/plugins/${encodeURIComponent(id)}/settings`);
  if (!data.schema) return h('p', {}, t('plugins.noSettings'));
  const props = data.schema.properties || {};
  const fields = {};
  const msg = h('div', {'aria-live': 'polite'});
  const form = h('form', {class: 'settings', novalidate: true}, msg);
  for (const [name, schema] of Object.entries(props)) {
    if (schema.type === 'object' || schema.type === 'array') continue;
    const input = inputFor(name, schema, data.values[name]);
    const f = field(name, input, schema.writeOnly && data.values[name] ? `${schema.description} ${t('plugins.secretSet')}`
      : schema.description);
    fields[name] = {input, schema, f};
    form.append(f);
  }
  form.append(h('button', {type: 'submit'}, t('plugins.save')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.replaceChildren();
    Object.values(fields).forEach(({f}) => f.setError(''));
    const values = {...data.values};
    for (const [name, {input, schema}] of Object.entries(fields)) {
      const v = readValue(input, schema);
      if (v === undefined) delete values[name];
      else values[name] = v;
    }
    for (const [name, schema] of Object.entries(props)) if (schema.type === 'object' || schema.type === 'array') values[name] = data.values[name];
    try {
      const res = await api.put(`/api/v1/plugins/${encodeURIComponent(id)}/settings`, {values});
      msg.replaceChildren(h('p', {class: 'ok'}, t('plugins.saved'), res.reason ? ` (${res.reason})` : ''));
      announce(t('plugins.saved'));
    } catch (e) {
      if (e instanceof ApiError && e.fieldErrors.length) {
        let first = null;
        for (const fe of e.fieldErrors) {
          const key = fe.pointer.replace(/^\//, '').split('/')[0];
          if (fields[key]) {
            fields[key].f.setError(fe.text);
            first = first || fields[key].input;
          } else {
            msg.append(errorBox(`${key}: ${fe.text}`));
          }
        }
        first?.focus();
      } else {
        msg.replaceChildren(errorBox(e.message));
      }
    }
  });
  return form;
}

export default async function pluginsPage({api}) {
  const {plugins} = await api.get('/api/v1/plugins');
  const detail = h('div');
  const rows = plugins.map((p) => h('tr', {},
    h('td', {}, p.id), h('td', {}, p.name), h('td', {}, p.version), h('td', {}, t(`plugins.kind.${p.kind}`)),
    h('td', {class: `state-${p.state}`}, t(`state.${p.state}`)),
    // The host's reason is a technical line as logged (English), for IT.
    h('td', {}, p.reason ? h('span', {lang: 'en'}, p.reason) : ''),
    h('td', {}, h('button', {type: 'button', class: 'link', onclick: async () => {
      detail.replaceChildren(h('h2', {}, `${t('plugins.settings')}: ${p.name}`), await settingsForm(api, p.id));
      detail.querySelector('input,select,button')?.focus();
    }}, t('plugins.settings')))));
  return h('div', {}, h('h1', {}, t('plugins.title')),
    table([t('plugins.id'), t('plugins.name'), t('plugins.version'), t('plugins.kind'), t('plugins.state'), t('plugins.reason'), t('plugins.actions')], rows),
    detail);
}
