import {h, table, formatTime, announce, errorBox} from '../dom.js';
import {t} from '../i18n.js';

export default async function outboxPage({api, user, refresh}) {
  const state = new URLSearchParams(location.hash.split('?')[1] || '').get('state') || 'dead';
  const data = await api.get(`/api/v1/outbox?state=${encodeURIComponent(state)}&limit=200`);
  const msg = h('div', {'aria-live': 'polite'});
  const tabs = h('p', {class: 'tabs'}, ['pending', 'dead', 'delivered'].map((s) =>
    h('a', {href: `#/outbox?state=${s}`, 'aria-current': s === state ? 'page' : false},
      `${t(`outbox.${s}`)} (${data.counts[s]})`)));
  const act = async (fn, done) => {
    try {
      await fn();
      announce(done);
      await refresh();
    } catch (e) {
      msg.replaceChildren(errorBox(e.message));
    }
  };
  const rows = data.messages.map((m) => h('tr', {},
    h('td', {}, m.id), h('td', {}, m.channel), h('td', {}, m.attempts), h('td', {}, m.last_error || ''),
    h('td', {}, formatTime(m.created_at)),
    h('td', {class: 'actions'},
      m.state === 'delivered' ? null : h('button', {type: 'button', onclick: () => act(
        () => api.post(`/api/v1/outbox/${m.id}/retry`), t('outbox.retry'))}, t('outbox.retry')),
      m.state === 'delivered' || user.role !== 'admin' ? null : h('button', {type: 'button', class: 'danger', onclick: () => {
        if (window.confirm(t('outbox.confirmDiscard', {id: m.id})))
          act(() => api.del(`/api/v1/outbox/${m.id}`), t('outbox.discard'));
      }}, t('outbox.discard')))));
  return h('div', {}, h('h1', {}, t('outbox.title')), h('p', {}, t('outbox.intro')), tabs, msg,
    rows.length ? table(['#', t('outbox.channel'), t('outbox.attempts'), t('outbox.lastError'), t('outbox.created'), ''], rows)
      : h('p', {}, t('outbox.empty')));
}
