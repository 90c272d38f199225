import {h, field, table, errorBox, announce} from '../dom.js';
import {t} from '../i18n.js';

export default async function usersPage({api, refresh}) {
  const {users} = await api.get('/api/v1/users');
  const msg = h('div', {'aria-live': 'polite'});
  const act = async (fn, done) => {
    try {
      await fn();
      announce(done);
      await refresh();
    } catch (e) {
      msg.replaceChildren(errorBox(e.message));
    }
  };
  const rows = users.map((u) => h('tr', {},
    h('td', {}, u.username), h('td', {}, u.display_name), h('td', {}, t(`role.${u.role}`)), h('td', {}, u.hsa_id),
    h('td', {}, u.care_unit), h('td', {}, u.disabled ? t('users.disabled') : t('users.active')),
    h('td', {class: 'actions'},
      h('button', {type: 'button', class: u.disabled ? '' : 'danger', onclick: () => {
        if (!u.disabled && !window.confirm(t('users.confirmDisable', {name: u.username}))) return;
        act(() => api.patch(`/api/v1/users/${u.id}`, {disabled: !u.disabled}), u.disabled ? t('users.enable') : t('users.disable'));
      }}, u.disabled ? t('users.enable') : t('users.disable')),
      h('button', {type: 'button', onclick: (ev) => passwordForm(u, ev.currentTarget.closest('tr'))}, t('users.resetPassword')))));

  // A new password is typed into a password field below the user's row (window.prompt showed
  // it in plain text), and the box's answer is shown there.
  function passwordForm(u, row) {
    row.parentNode.querySelectorAll('tr.inline').forEach((r) => r.remove());
    const pw = h('input', {type: 'password', autocomplete: 'new-password', required: true});
    const note = h('div', {'aria-live': 'polite'});
    const pwField = field(t('users.newPasswordPrompt', {name: u.username}), pw);
    const form = h('form', {class: 'inline-form'}, pwField,
      h('button', {type: 'submit'}, t('users.resetPassword')),
      h('button', {type: 'button', onclick: () => line.remove()}, t('users.cancel')), note);
    const line = h('tr', {class: 'inline'}, h('td', {colspan: 7}, form));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api.post(`/api/v1/users/${u.id}/password`, {password: pw.value});
        announce(t('app.saved'));
        await refresh();
      } catch (e) {
        const fieldError = (e.fieldErrors || []).find((x) => x.pointer === '/password');
        if (fieldError) pwField.setError(fieldError.text);
        else note.replaceChildren(errorBox(e.message));
      }
    });
    row.after(line);
    pw.focus();
  }

  const inputs = {
    username: h('input', {name: 'username', autocomplete: 'off', required: true}),
    display_name: h('input', {name: 'display_name'}),
    role: h('select', {name: 'role'}, ['staff', 'admin', 'auditor', 'it'].map((r) => h('option', {value: r}, t(`role.${r}`)))),
    hsa_id: h('input', {name: 'hsa_id', placeholder: 'SE2321000016-XXXX'}),
    care_unit: h('input', {name: 'care_unit', placeholder: 'SE2321000016-XXXX'}),
    password: h('input', {name: 'password', type: 'password', autocomplete: 'new-password', required: true}),
  };
  const labels = {username: 'users.username', display_name: 'users.name', role: 'users.role', hsa_id: 'users.hsaId',
    care_unit: 'users.careUnit', password: 'users.password'};
  const fields = Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, field(t(labels[k]), i)]));
  const form = h('form', {class: 'card', novalidate: true}, h('h2', {}, t('users.create')), ...Object.values(fields),
    h('button', {type: 'submit'}, t('users.create')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    Object.values(fields).forEach((f) => f.setError(''));
    msg.replaceChildren();
    const body = {};
    for (const [k, i] of Object.entries(inputs)) if (i.value !== '') body[k] = i.value;
    try {
      await api.post('/api/v1/users', body);
      announce(t('users.created', {name: body.username}));
      await refresh();
    } catch (e) {
      const fe = e.fieldErrors[0];
      const key = fe ? fe.pointer.replace(/^\//, '') : null;
      if (key && fields[key]) {
        fields[key].setError(fe.text);
        inputs[key].focus();
      } else {
        msg.replaceChildren(errorBox(e.message));
      }
    }
  });
  return h('div', {}, h('h1', {}, t('users.title')), msg,
    table([t('users.username'), t('users.name'), t('users.role'), t('users.hsaId'), t('users.careUnit'), t('users.status'), ''], rows),
    form);
}
