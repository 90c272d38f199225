// Plugins: state and reason of failure, and each plugin's settings form (settingsForm.js).
import {h, table} from '../dom.js';
import {t} from '../i18n.js';
import settingsForm from './settingsForm.js';

export default async function pluginsPage({api}) {
  const {plugins} = await api.get('/api/v1/plugins');
  const detail = h('div');
  const rows = plugins.map((p) => h('tr', {},
    h('td', {}, h('code', {}, p.id)), h('td', {}, p.name), h('td', {}, p.version), h('td', {}, t(`plugins.kind.${p.kind}`)),
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
