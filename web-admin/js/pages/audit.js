// Log review (loggkontroll): filters, newest first with paging, CSV export, chain check.
import {h, field, table, errorBox, formatTime} from '../dom.js';
import {t} from '../i18n.js';

const FILTERS = ['patient', 'user', 'action', 'from', 'to'];

export default async function auditPage({api}) {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const inputs = {
    patient: h('input', {name: 'patient', inputmode: 'numeric', placeholder: 'ÅÅÅÅMMDD-NNNN', value: params.get('patient') || ''}),
    user: h('input', {name: 'user', value: params.get('user') || ''}),
    action: h('input', {name: 'action', placeholder: 'auth.login', value: params.get('action') || ''}),
    from: h('input', {name: 'from', type: 'date', value: params.get('from') || ''}),
    to: h('input', {name: 'to', type: 'date', value: params.get('to') || ''}),
  };
  const fields = Object.fromEntries(FILTERS.map((k) => [k, field(t(`audit.${k}`), inputs[k])]));
  const results = h('div', {'aria-live': 'polite'});
  const query = () => {
    const q = new URLSearchParams();
    for (const k of FILTERS) if (inputs[k].value.trim()) q.set(k, inputs[k].value.trim());
    return q;
  };

  async function load(beforeSeq, append) {
    const q = query();
    if (beforeSeq) q.set('before_seq', beforeSeq);
    try {
      const data = await api.get(`/api/v1/audit?${q}`);
      const rows = data.records.map((r) => h('tr', {},
        h('td', {}, formatTime(r.at)), h('td', {}, r.username), h('td', {}, r.role), h('td', {}, r.care_unit),
        h('td', {}, r.action), h('td', {}, r.patient), h('td', {}, r.purpose), h('td', {}, r.outcome), h('td', {}, r.details)));
      const more = data.next_before_seq
        ? h('button', {type: 'button', onclick: (ev) => { ev.target.remove(); load(data.next_before_seq, true); }}, t('audit.more'))
        : null;
      if (append) {
        results.querySelector('tbody').append(...rows);
        if (more) results.append(more);
      } else {
        results.replaceChildren(rows.length ? table([t('audit.at'), t('audit.user'), 'Roll', 'Vårdenhet', t('audit.action'),
          t('audit.patient'), t('audit.purpose'), t('audit.outcome'), t('audit.details')], rows) : h('p', {}, t('audit.empty')));
        if (more) results.append(more);
      }
    } catch (e) {
      const fe = e.problem?.type === '/problems/invalid-personnummer';
      if (fe) fields.patient.setError(e.message);
      else results.replaceChildren(errorBox(e.message));
    }
  }

  const exportLink = h('a', {class: 'button', href: '#'}, t('audit.export'));
  const extractLink = h('a', {class: 'button', href: '#'}, t('audit.extract'));
  const updateLinks = () => {
    exportLink.href = `/api/v1/audit/export.csv?${query()}`;
    const p = inputs.patient.value.trim();
    extractLink.href = `#/extract?patient=${encodeURIComponent(p)}`;
    extractLink.hidden = !p;
  };
  updateLinks();

  const form = h('form', {class: 'card filters', role: 'search'}, ...Object.values(fields),
    h('button', {type: 'submit'}, t('audit.search')));
  form.addEventListener('input', updateLinks);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    Object.values(fields).forEach((f) => f.setError(''));
    updateLinks();
    load();
  });

  const verifyOut = h('p', {'aria-live': 'polite'});
  const verifyBtn = h('button', {type: 'button', onclick: async () => {
    try {
      const v = await api.get('/api/v1/audit/verify');
      verifyOut.className = v.ok ? 'ok' : 'error';
      verifyOut.textContent = v.ok ? t('audit.verifyOk', {n: v.records}) : t('audit.verifyBad', {seq: v.first_bad_seq, problem: v.problem});
    } catch (e) {
      verifyOut.textContent = e.message;
    }
  }}, t('audit.verify'));

  load();
  return h('div', {}, h('h1', {}, t('audit.title')), h('p', {}, t('audit.intro')), form,
    h('p', {class: 'tools'}, exportLink, ' ', extractLink, ' ', verifyBtn), verifyOut, results);
}
