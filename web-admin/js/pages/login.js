import {api, setCsrf} from '../api.js';
import {h, field, errorBox} from '../dom.js';
import {t} from '../i18n.js';

export default function loginPage({onLogin}) {
  const user = h('input', {name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none'});
  const pass = h('input', {name: 'password', type: 'password', autocomplete: 'current-password', required: true});
  const msg = h('div', {'aria-live': 'assertive'});
  const button = h('button', {type: 'submit'}, t('login.submit'));
  const form = h('form', {class: 'card narrow', novalidate: true},
    h('h1', {}, t('login.title')), msg, field(t('login.username'), user), field(t('login.password'), pass), button);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.replaceChildren();
    button.disabled = true;
    try {
      const res = await api.post('/api/v1/auth/login', {username: user.value.trim(), password: pass.value});
      setCsrf(res.csrf_token);
      await onLogin();
    } catch (e) {
      msg.replaceChildren(errorBox(e.status === 401 || e.status === 429 ? e.message : t('login.failed')));
      pass.value = '';
      pass.focus();
    } finally {
      button.disabled = false;
    }
  });
  setTimeout(() => user.focus(), 0);
  return form;
}
