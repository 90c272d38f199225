// Plugin sets: the one running, upload (verified before it is stored, with every check
// shown when it is refused), activation and rollback.
import {h, field, table, errorBox, announce, formatTime} from '../dom.js';
import {t} from '../i18n.js';

function refusal(e) {
  const box = errorBox(t('sets.refused', {detail: e.message}));
  const checks = e.problem?.checks || [];
  if (checks.length) {
    box.append(h('ul', {}, checks.map((c) => h('li', {}, `${c.passed ? '✓' : '✗'} ${c.name}: ${c.detail}`))));
  }
  return box;
}

export default async function pluginsetsPage({api, user, refresh}) {
  const data = await api.get('/api/v1/pluginsets');
  const msg = h('div', {'aria-live': 'polite'});
  const admin = user.role === 'admin';
  const act = async (confirmText, fn, done) => {
    if (!window.confirm(confirmText)) return;
    try {
      await fn();
      announce(done);
      await refresh();
    } catch (e) {
      msg.replaceChildren(refusal(e));
    }
  };
  const r = data.running;
  const running = h('section', {class: 'card', 'aria-labelledby': 's-run'}, h('h2', {id: 's-run'}, t('sets.running')),
    h('p', {}, `${r.name || '–'} (${t('sets.sequence').toLowerCase()} ${r.sequence}) – ${t(`setstatus.${r.status}`)}`),
    r.refusal ? errorBox(r.refusal) : null);

  const rows = data.sets.map((s) => h('tr', {},
    h('td', {}, s.name), h('td', {}, s.sequence), h('td', {}, `${s.region} (${s.region_hsa_id})`), h('td', {}, s.expires),
    h('td', {}, s.signers), h('td', {}, t(`sets.state.${s.state}`)), h('td', {}, formatTime(s.uploaded_at), ' ', s.uploaded_by),
    h('td', {}, admin && s.state !== 'active' ? h('button', {type: 'button', onclick: () => act(
      t('sets.confirmActivate', {name: s.name}), () => api.post(`/api/v1/pluginsets/${s.id}/activate`), t('sets.activated'))},
    t('sets.activate')) : null)));

  const parts = [h('h1', {}, t('sets.title')), h('p', {}, t('sets.intro')), msg, running,
    rows.length ? table([t('sets.name'), t('sets.sequence'), t('sets.region'), t('sets.expires'), t('sets.signers'),
      t('sets.state'), '', ''], rows) : h('p', {}, t('sets.none'))];
  if (admin) {
    if (data.sets.some((s) => s.state === 'previous')) {
      parts.push(h('p', {}, h('button', {type: 'button', class: 'danger', onclick: () => act(t('sets.confirmRollback'),
        () => api.post('/api/v1/pluginsets/rollback'), t('sets.rolledBack'))}, t('sets.rollback'))));
    }
    const file = h('input', {type: 'file', accept: '.zip,application/zip', required: true});
    const form = h('form', {class: 'card'}, field(t('sets.upload'), file), h('button', {type: 'submit'}, t('sets.uploadButton')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!file.files[0]) return;
      msg.replaceChildren();
      try {
        const res = await api.upload('/api/v1/pluginsets', file.files[0], 'application/zip');
        announce(t('sets.uploaded', {name: res.name, seq: res.sequence}));
        await refresh();
      } catch (e) {
        msg.replaceChildren(refusal(e));
      }
    });
    parts.push(form);
  }
  return h('div', {}, parts);
}
