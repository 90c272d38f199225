// A patient's log extract (PDL): which units and users accessed the patient's data, as a
// printable page, for the whole log or the period the review's filter set (Swedish days).
import {h, table, errorBox} from '../dom.js';
import {t} from '../i18n.js';
import {actionText, roleText} from './audit.js';

export default async function extractPage({api}) {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const q = new URLSearchParams({patient: params.get('patient') || ''});
  for (const k of ['from', 'to']) if (params.get(k)) q.set(k, params.get(k));
  try {
    const data = await api.get(`/api/v1/audit/patient-extract?${q}`);
    const p = data.patient;
    const rows = data.entries.map((e) => h('tr', {}, h('td', {}, e.day), h('td', {}, e.care_unit || '–'),
      h('td', {}, e.username.startsWith('system:') ? t('audit.systemUser') : e.username), h('td', {}, roleText(e.role)),
      h('td', {}, [...new Set(String(e.actions).split(',').map(actionText))].join(', ')), h('td', {}, e.count)));
    return h('article', {class: 'extract'},
      h('h1', {}, `${t('extract.title')}: ${p.slice(0, 8)}-${p.slice(8)}`), h('p', {}, t('extract.intro')),
      h('p', {class: 'extract-period'}, data.from && data.to ? t('extract.period', {from: data.from, to: data.to})
        : data.from ? t('extract.periodFrom', {from: data.from}) : data.to ? t('extract.periodTo', {to: data.to}) : t('extract.periodAll')),
      h('p', {class: 'no-print'}, h('button', {type: 'button', onclick: () => window.print()}, t('extract.print'))),
      rows.length ? table([t('extract.day'), t('extract.unit'), t('audit.user'), t('audit.role'), t('audit.action'), t('extract.count')], rows)
        : h('p', {}, t('extract.none')));
  } catch (e) {
    return errorBox(e.message);
  }
}
