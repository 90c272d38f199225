// First start: create the first admin with the one-time link the box printed.
import {api} from './api.js';
import {h, field, errorBox} from './dom.js';
import {t} from './i18n.js';

const main = document.getElementById('main');
const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
document.title = t('setup.title');

if (!token) {
  main.replaceChildren(h('div', {class: 'card narrow'}, h('h1', {}, t('setup.title')), errorBox(t('setup.noToken'))));
} else {
  const inputs = {
    username: h('input', {autocomplete: 'username', required: true}),
    display_name: h('input', {autocomplete: 'name'}),
    password: h('input', {type: 'password', autocomplete: 'new-password', required: true}),
    password2: h('input', {type: 'password', autocomplete: 'new-password', required: true}),
  };
  const f = {
    username: field(t('login.username'), inputs.username),
    display_name: field(t('setup.name'), inputs.display_name),
    password: field(t('users.password'), inputs.password),
    password2: field(t('setup.password2'), inputs.password2),
  };
  const msg = h('div', {'aria-live': 'assertive'});
  const form = h('form', {class: 'card narrow', novalidate: true}, h('h1', {}, t('setup.title')), h('p', {}, t('setup.intro')),
    msg, ...Object.values(f), h('button', {type: 'submit'}, t('setup.title')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    Object.values(f).forEach((x) => x.setError(''));
    msg.replaceChildren();
    if (inputs.password.value !== inputs.password2.value) {
      f.password2.setError(t('setup.mismatch'));
      inputs.password2.focus();
      return;
    }
    try {
      await api.post('/api/v1/auth/setup', {token, username: inputs.username.value.trim(),
        display_name: inputs.display_name.value.trim(), password: inputs.password.value});
      history.replaceState(null, '', '/setup.html');
      main.replaceChildren(h('div', {class: 'card narrow'}, h('h1', {}, t('setup.title')), h('p', {class: 'ok'}, t('setup.done')),
        h('a', {href: '/', class: 'button'}, t('setup.toLogin'))));
    } catch (e) {
      msg.replaceChildren(errorBox(e.message));
    }
  });
  main.replaceChildren(form);
  inputs.username.focus();
}
