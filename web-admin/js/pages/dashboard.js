import {h, table} from '../dom.js';
import {t} from '../i18n.js';

function dl(pairs) {
  return h('dl', {class: 'facts'}, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export default async function dashboardPage({api, user}) {
  const ready = await api.get('/readyz');
  const set = ready.plugin_set || {};
  const sections = [
    h('h1', {}, t('dash.title')),
    h('section', {class: 'card', 'aria-labelledby': 'd-today'}, h('h2', {id: 'd-today'}, t('dash.today')),
      h('p', {}, t('dash.todayEmpty'))),
    h('section', {class: 'card', 'aria-labelledby': 'd-box'}, h('h2', {id: 'd-box'}, t('dash.box')),
      dl([[t('dash.mode'), t(`dash.mode.${ready.mode}`)], [t('dash.database'), ready.database]])),
    h('section', {class: 'card', 'aria-labelledby': 'd-set'}, h('h2', {id: 'd-set'}, t('dash.set')),
      dl([[t('dash.setName'), set.name || '–'], [t('dash.setSigned'), set.signed ? t('yes') : t('no')],
        [t('dash.setRegion'), set.region || '–'], [t('dash.setExpires'), set.expires || '–'],
        [t('dash.setStatus'), t(`setstatus.${set.status}`)]])),
    h('section', {class: 'card', 'aria-labelledby': 'd-plugins'}, h('h2', {id: 'd-plugins'}, t('dash.plugins')),
      table([t('plugins.id'), t('plugins.version'), t('plugins.state')],
        ready.plugins.map((p) => h('tr', {}, h('td', {}, p.id), h('td', {}, p.version),
          h('td', {class: `state-${p.state}`}, t(`state.${p.state}`), p.reason ? ` – ${p.reason}` : ''))))),
  ];
  if (user.role === 'admin' || user.role === 'it') {
    const ob = await api.get('/api/v1/outbox?limit=1');
    sections.push(h('section', {class: 'card', 'aria-labelledby': 'd-outbox'}, h('h2', {id: 'd-outbox'}, t('dash.outbox')),
      dl([[t('outbox.pending'), ob.counts.pending], [t('outbox.dead'), ob.counts.dead],
        [t('outbox.delivered'), ob.counts.delivered]])));
    const tls = await api.get('/api/v1/system/tls');
    sections.push(h('section', {class: 'card', 'aria-labelledby': 'd-tls'}, h('h2', {id: 'd-tls'}, t('dash.tls')),
      tls.enabled
        ? [dl([[t('dash.tlsFingerprint'), h('code', {id: 'tls-fingerprint'}, tls.fingerprint_sha256)],
          [t('dash.tlsNames'), tls.names.join(', ')], [t('dash.tlsExpires'), tls.not_after],
          [t('dash.tlsSource'), t(`dash.tlsSource.${tls.source}`)]]), h('p', {}, t('dash.tlsHint'))]
        : h('p', {}, t('dash.tlsOff'))));
  }
  return h('div', {class: 'grid'}, sections);
}
