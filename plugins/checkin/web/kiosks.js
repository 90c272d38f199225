// Kiosker (admin): register the browser this page runs in as the waiting room's kiosk (it gets
// an HttpOnly device cookie; open /kiosk in it afterwards), and revoke kiosks no longer in use.
import {h, field, table, errorBox, formatTime} from '/js/dom.js';

const sv = {
  intro: 'En kiosk är en registrerad pekskärm i väntrummet. Öppna den här sidan i kioskens webbläsare, registrera den och öppna sedan /kiosk. '
    + 'Patienter som checkar in med mobilen skriver koden som kiosken visar.',
  name: 'Kioskens namn', register: 'Registrera den här webbläsaren som kiosk', registered: 'Webbläsaren är registrerad som kiosken {name}. Öppna /kiosk.',
  id: 'Nr', created: 'Registrerad', by: 'Av', revoke: 'Återkalla', none: 'Inga kiosker är registrerade.',
  confirmRevoke: 'Återkalla kiosken {name}? Den slutar fungera direkt och måste registreras igen.',
};
const t = (s, v = {}) => s.replace(/\{(\w+)\}/g, (_, k) => v[k] ?? '');

export default async function render(root, api) {
  const msg = h('div', {'aria-live': 'polite'});
  const list = h('div', {});
  const load = async () => {
    const d = await api.get('/api/v1/checkin/kiosks');
    const rows = d.kiosks.map((k) => h('tr', {}, h('td', {}, String(k.id)), h('td', {}, k.name),
      h('td', {}, formatTime(k.created_at * 1000)), h('td', {}, k.created_by),
      h('td', {}, h('button', {type: 'button', class: 'danger', onclick: async () => {
        if (!window.confirm(t(sv.confirmRevoke, {name: k.name}))) return;
        try {
          await api.del(`/api/v1/checkin/kiosks/${k.id}`);
          await load();
        } catch (e) {
          msg.replaceChildren(errorBox(e.message));
        }
      }}, sv.revoke))));
    list.replaceChildren(rows.length ? table([sv.id, sv.name, sv.created, sv.by, ''], rows) : h('p', {}, sv.none));
  };
  const name = h('input', {type: 'text', maxlength: 60, value: 'Väntrummet', required: true});
  const f = h('form', {class: 'actions'}, field(sv.name, name), h('button', {type: 'submit'}, sv.register));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const k = await api.post('/api/v1/checkin/kiosks', {name: name.value.trim()});
      msg.replaceChildren(h('p', {class: 'ok', role: 'status'}, t(sv.registered, {name: k.name})));
      await load();
    } catch (e) {
      msg.replaceChildren(errorBox(e.message));
    }
  });
  root.replaceChildren(h('p', {}, sv.intro), f, msg, list);
  await load();
}
