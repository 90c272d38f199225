// A plugin's settings form, rendered from its schema at any depth: objects become fieldsets,
// lists of objects (tariffs, Swish accounts) become repeatable groups with add and remove,
// lists of plain values one input per line. Labels and help are the schema's Swedish
// (`label_sv` -> title, `doc_sv` -> x-doc-sv); secrets are write-only: the box sends a mask,
// an untouched secret field sends the mask back ("keep"), a typed one replaces it. The box's
// per-field errors (JSON pointers) are shown next to their fields.
import {h, field, errorBox, announce} from '../dom.js';
import {t} from '../i18n.js';
import {ApiError} from '../api.js';

const MASK = '********';
let groupCounter = 0;

const labelOf = (name, schema) => schema.title || name;
const helpOf = (schema) => schema['x-doc-sv'] || '';
const isScalar = (s) => !['object', 'array'].includes(s.type);

function scalarInput(schema, value) {
  if (schema.enum) {
    return h('select', {}, schema.enum.map((v) =>
      h('option', {value: v, selected: v === value}, v === '' ? t('plugins.any') : v)));
  }
  if (schema.type === 'boolean') return h('input', {type: 'checkbox', checked: value === true});
  if (schema.type === 'integer' || schema.type === 'number') {
    return h('input', {type: 'number', value: value ?? '', step: schema.type === 'integer' ? '1' : 'any',
      min: schema.minimum, max: schema.maximum});
  }
  if (schema.writeOnly) return h('input', {type: 'password', value: '', autocomplete: 'new-password', maxlength: schema.maxLength});
  return h('input', {type: 'text', value: value ?? '', maxlength: schema.maxLength, autocomplete: 'off'});
}

// A node of the form: its element, how to read its value, and where its errors go.
function scalarNode(name, schema, value, pointer, registry) {
  const input = scalarInput(schema, value ?? (schema.writeOnly ? undefined : schema.default));
  const secretSet = schema.writeOnly && value === MASK;
  const help = [helpOf(schema), secretSet ? t('plugins.secretSet') : ''].filter(Boolean).join(' ');
  const f = field(labelOf(name, schema), input, help || undefined);
  registry.set(pointer, f);
  return {
    el: f,
    read() {
      if (schema.type === 'boolean') return input.checked;
      if (schema.writeOnly && input.value === '') return secretSet ? MASK : undefined;
      if (schema.type === 'integer' || schema.type === 'number') {
        if (input.value === '') return undefined;
        const n = Number(input.value);
        return Number.isNaN(n) ? input.value : n;
      }
      return input.value;
    },
    focus: () => input.focus(),
  };
}

function objectNode(name, schema, value, pointer, registry, legend = true) {
  const v = value && typeof value === 'object' ? value : {};
  const children = Object.entries(schema.properties || {}).map(([k, s]) =>
    [k, node(k, s, v[k], `${pointer}/${k}`, registry)]);
  const errs = h('p', {class: 'field-error', hidden: true});
  const el = h('fieldset', {class: 'settings-group'}, legend ? h('legend', {}, labelOf(name, schema)) : null,
    legend && helpOf(schema) ? h('p', {class: 'hint'}, helpOf(schema)) : null, errs, children.map(([, c]) => c.el));
  registry.set(pointer, {setError: (m) => { errs.textContent = m || ''; errs.hidden = !m; }});
  return {
    el,
    read() {
      const out = {};
      for (const [k, c] of children) {
        const x = c.read();
        if (x !== undefined && !(x === '' && !(k in v))) out[k] = x;
      }
      return out;
    },
  };
}

// A list: of objects, one group per item with remove; of plain values, one per line.
function arrayNode(name, schema, value, pointer, registry) {
  const items = Array.isArray(value) ? value : [];
  const itemSchema = schema.items || {type: 'string'};
  if (isScalar(itemSchema)) {
    const area = h('textarea', {rows: Math.max(3, items.length + 1)}, items.join('\n'));
    const f = field(labelOf(name, schema), area, [helpOf(schema), t('plugins.onePerLine')].filter(Boolean).join(' '));
    registry.set(pointer, f);
    return {
      el: f,
      read() {
        const lines = area.value.split('\n').map((x) => x.trim()).filter(Boolean);
        return itemSchema.type === 'integer' || itemSchema.type === 'number'
          ? lines.map((x) => (Number.isNaN(Number(x)) ? x : Number(x))) : lines;
      },
    };
  }
  const id = `g${++groupCounter}`;
  const list = h('div', {class: 'settings-items'});
  const nodes = [];
  const errs = h('p', {class: 'field-error', hidden: true});
  registry.set(pointer, {setError: (m) => { errs.textContent = m || ''; errs.hidden = !m; }});
  const add = (itemValue) => {
    const n = objectNode('', itemSchema, itemValue, `${pointer}/${nodes.length}`, registry, false);
    const entry = {n};
    const remove = h('button', {type: 'button', class: 'link', onclick: () => {
      nodes.splice(nodes.indexOf(entry), 1);
      entry.el.remove();
      renumber();
    }}, t('plugins.removeItem'));
    const legend = h('legend', {});
    entry.legend = legend;
    entry.el = h('fieldset', {class: 'settings-item'}, legend, n.el, remove);
    nodes.push(entry);
    list.append(entry.el);
    renumber();
    return entry;
  };
  const renumber = () => nodes.forEach((e, i) => { e.legend.textContent = t('plugins.item', {name: labelOf(name, schema), n: i + 1}); });
  items.forEach((x) => add(x));
  const addBtn = h('button', {type: 'button', 'aria-describedby': id, onclick: () => {
    const e = add({});
    e.el.querySelector('input,select,textarea')?.focus();
  }}, t('plugins.addItem', {name: labelOf(name, schema)}));
  const el = h('fieldset', {class: 'settings-group'}, h('legend', {id}, labelOf(name, schema)),
    helpOf(schema) ? h('p', {class: 'hint'}, helpOf(schema)) : null, errs, list, addBtn);
  return {el, read: () => nodes.map((e) => e.n.read())};
}

function node(name, schema, value, pointer, registry) {
  if (schema.type === 'object') return objectNode(name, schema, value, pointer, registry);
  if (schema.type === 'array') return arrayNode(name, schema, value, pointer, registry);
  return scalarNode(name, schema, value, pointer, registry);
}

export default async function settingsForm(api, id) {
  const data = await api.get(`/api/v1/plugins/${encodeURIComponent(id)}/settings`);
  if (!data.schema) return h('p', {}, t('plugins.noSettings'));
  const registry = new Map();  // JSON pointer -> the element showing its error
  const msg = h('div', {'aria-live': 'polite'});
  const root = objectNode('', data.schema, data.values, '', registry, false);
  const form = h('form', {class: 'settings', novalidate: true}, msg, root.el,
    h('button', {type: 'submit'}, t('plugins.save')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.replaceChildren();
    for (const f of registry.values()) f.setError('');
    try {
      const res = await api.put(`/api/v1/plugins/${encodeURIComponent(id)}/settings`, {values: root.read()});
      msg.replaceChildren(h('p', {class: 'ok'}, t('plugins.saved')));
      announce(t('plugins.saved'));
      if (res?.reason) msg.append(h('p', {}, h('span', {lang: 'en'}, res.reason)));
    } catch (e) {
      if (e instanceof ApiError && e.fieldErrors.length) {
        let first = null;
        for (const fe of e.fieldErrors) {
          // The nearest element that shows errors: the field itself, or its group.
          let p = fe.pointer;
          while (p && !registry.has(p)) p = p.slice(0, p.lastIndexOf('/'));
          const target = registry.get(p);
          if (target) {
            target.setError(fe.text);
            first = first || target;
          } else {
            msg.append(errorBox(fe.text));
          }
        }
        const input = first?.querySelector?.('input,select,textarea');
        (input || form.querySelector('[aria-invalid="true"]'))?.focus();
      } else {
        msg.replaceChildren(errorBox(e.message));
      }
    }
  });
  return form;
}
