// Console page "Remissmottagare": the receiver directory (HSA-id, name, what they receive,
// endpoint, contract version), edited by hand or imported from an HSA catalogue export.
const strings = {
  title: 'Remissmottagare',
  confirmRemove: 'Ta bort {name} ur katalogen? Remisser kan inte längre skickas dit.',
  none: 'Katalogen är tom.',
  hsa: 'HSA-id',
  name: 'Namn',
  receives: 'Tar emot',
  endpoint: 'Adress (https)',
  version: 'Kontraktsversion',
  supported: 'Stöds',
  unsupported: 'Annan huvudversion – kan inte ta emot härifrån',
  yes: 'Ja',
  save: 'Spara mottagare',
  saved: 'Mottagaren är sparad.',
  adminOnly: 'Katalogen ändras av en administratör.',
  hsaNeeded: 'Ange mottagarens HSA-id.',
  remove: 'Ta bort',
  importTitle: 'Importera från HSA-katalogen (CSV eller JSON)',
  importButton: 'Importera',
  imported: (n) => `${n} mottagare importerade.`,
  failed: 'Det gick inte:',
};

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function field(label, input) {
  const l = el('label', `${label} `);
  l.append(input);
  const p = el('p');
  p.append(l);
  return p;
}

function input(name) {
  const i = el('input');
  i.type = 'text';
  i.name = name;
  return i;
}

function button(text, onClick) {
  const b = el('button', text);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

export default async function render(root, api) {
  const message = el('p', '');
  message.setAttribute('role', 'status');
  const body = el('div');
  const hsa = input('hsa_id');
  const name = input('name');
  const receives = input('receives');
  const endpoint = input('endpoint_url');
  const version = input('contract_version');
  version.value = '2.2';
  const file = el('input');
  file.type = 'file';
  file.accept = '.csv,.json,text/csv,application/json';
  // Only an admin changes the directory: staff see it without the buttons they may not use.
  const session = await api.get('/api/v1/auth/session').catch(() => ({}));
  const admin = session.user?.role === 'admin';
  if (!admin) {
    root.replaceChildren(el('h1', strings.title), message, body, el('p', strings.adminOnly));
    await load();
    return;
  }
  root.replaceChildren(el('h1', strings.title), message, body,
    el('h2', strings.save), field(strings.hsa, hsa), field(strings.name, name), field(strings.receives, receives),
    field(strings.endpoint, endpoint), field(strings.version, version),
    button(strings.save, () => act(async () => {
      if (!hsa.value.trim()) {
        message.textContent = strings.hsaNeeded;
        return;
      }
      await api.put(`/api/v1/referral/receivers/${encodeURIComponent(hsa.value)}`, {
        name: name.value, receives: receives.value, endpoint_url: endpoint.value, contract_version: version.value,
      });
      message.textContent = strings.saved;
    })),
    el('h2', strings.importTitle), file,
    button(strings.importButton, () => act(async () => {
      const f = file.files[0];
      if (!f) return;
      const content = await f.text();
      const format = f.name.toLowerCase().endsWith('.json') ? 'json' : 'csv';
      const r = await api.post('/api/v1/referral/receivers/import', {format, content});
      message.textContent = strings.imported(r.imported);
    })));

  async function act(fn) {
    try {
      await fn();
    } catch (err) {
      message.textContent = `${strings.failed} ${err.message}`;
    }
    await load();
  }

  async function load() {
    const data = await api.get('/api/v1/referral/receivers');
    if (!data.items.length) {
      body.replaceChildren(el('p', strings.none));
      return;
    }
    const table = el('table');
    const head = el('tr');
    for (const h of [strings.hsa, strings.name, strings.receives, strings.endpoint, strings.version, strings.supported, ''])
      head.append(el('th', h));
    table.append(head);
    for (const r of data.items) {
      const tr = el('tr');
      tr.append(el('td', r.hsa_id), el('td', r.name), el('td', r.receives), el('td', r.endpoint_url),
        el('td', r.contract_version), el('td', r.supported ? strings.yes : strings.unsupported));
      const actions = el('td');
      if (admin) {
        actions.append(button(strings.remove, () => {
          if (!window.confirm(strings.confirmRemove.replace('{name}', r.name || r.hsa_id))) return;
          act(() => api.del(`/api/v1/referral/receivers/${encodeURIComponent(r.hsa_id)}`));
        }));
      }
      tr.append(actions);
      table.append(tr);
    }
    body.replaceChildren(table);
  }
  await load();
}
