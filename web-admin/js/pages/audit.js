// Log review (loggkontroll): filters (patient, user, kind of action, outcome, role, period),
// newest first with paging, the review's own records left out unless asked for, CSV export,
// chain check. Roles, actions and outcomes are shown in Swedish from the catalogue; the
// details are the log line as recorded (marked as English for screen readers).
import {h, field, table, errorBox, formatTime} from '../dom.js';
import {t, has} from '../i18n.js';

const KINDS = ['booking', 'checkin', 'efrikort', 'video', 'journal', 'referral', 'auth', 'access', 'user', 'plugin',
  'pluginset', 'lua', 'outbox', 'audit'];
const OUTCOMES = ['ok', 'denied', 'failed'];
const ROLES = ['staff', 'admin', 'auditor', 'it', 'anonymous', 'system'];

export function actionText(action) {
  if (has(`audit.action.${action}`)) return t(`audit.action.${action}`);
  const kind = action.split('.')[0];
  return has(`audit.kind.${kind}`) ? t('audit.action.other', {kind: t(`audit.kind.${kind}`)}) : t('audit.action.unknown');
}

export const roleText = (role) => (role && has(`role.${role}`) ? t(`role.${role}`) : role || '');

const pnrText = (p) => (/^\d{12}$/.test(p || '') ? `${p.slice(0, 8)}-${p.slice(8)}` : p || '');
// One record of a view that showed several patients (a day's calendar) lists them all.
const patientCell = (r) => ((r.subjects || []).length
  ? h('details', {class: 'subjects'}, h('summary', {}, t('audit.subjects', {n: r.subjects.length})),
    r.subjects.map(pnrText).join(', '))
  : pnrText(r.patient));

export default async function auditPage({api}) {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const select = (name, values, prefix) => h('select', {name},
    h('option', {value: ''}, t('audit.any')),
    values.map((v) => h('option', {value: v, selected: params.get(name) === v}, t(`${prefix}.${v}`))));
  const inputs = {
    patient: h('input', {name: 'patient', inputmode: 'numeric', placeholder: 'ÅÅÅÅMMDD-NNNN', value: params.get('patient') || ''}),
    user: h('input', {name: 'user', value: params.get('user') || ''}),
    kind: select('kind', KINDS, 'audit.kind'),
    outcome: select('outcome', OUTCOMES, 'audit.outcome'),
    role: select('role', ROLES, 'role'),
    from: h('input', {name: 'from', type: 'date', value: params.get('from') || ''}),
    to: h('input', {name: 'to', type: 'date', value: params.get('to') || ''}),
  };
  const labels = {patient: 'audit.patient', user: 'audit.user', kind: 'audit.kindLabel', outcome: 'audit.outcomeLabel',
    role: 'audit.role', from: 'audit.from', to: 'audit.to'};
  const fields = Object.fromEntries(Object.keys(inputs).map((k) => [k, field(t(labels[k]), inputs[k])]));
  const noise = h('input', {type: 'checkbox', name: 'noise', id: 'audit-noise', checked: params.get('noise') === '1'});
  const noiseField = h('div', {class: 'field checkbox'}, h('label', {for: 'audit-noise'}, noise, ' ', t('audit.showNoise')));
  // aria-busy while a search runs (screen readers, and the browser tests wait on it); only the
  // latest search's answer is shown, so a slow earlier one cannot replace a newer one's rows.
  const results = h('div', {class: 'audit-results', 'aria-live': 'polite', 'aria-busy': 'true'});
  let loadTurn = 0;
  const query = () => {
    const q = new URLSearchParams();
    for (const k of ['patient', 'user', 'outcome', 'role', 'from', 'to']) if (inputs[k].value.trim()) q.set(k, inputs[k].value.trim());
    if (inputs.kind.value) q.set('action', `${inputs.kind.value}.`);
    if (!noise.checked) q.set('hide_noise', 'true');
    return q;
  };

  async function load(beforeSeq, append) {
    const turn = ++loadTurn;
    results.setAttribute('aria-busy', 'true');
    const q = query();
    if (beforeSeq) q.set('before_seq', beforeSeq);
    try {
      const data = await api.get(`/api/v1/audit?${q}`);
      if (turn !== loadTurn) return;
      const rows = data.records.map((r) => h('tr', {},
        h('td', {}, formatTime(r.at)), h('td', {}, r.username), h('td', {}, roleText(r.role)), h('td', {}, r.care_unit),
        h('td', {}, actionText(r.action), h('br'), h('code', {class: 'muted'}, r.action)),
        h('td', {}, patientCell(r)), h('td', {}, r.purpose),
        h('td', {}, has(`audit.outcome.${r.outcome}`) ? t(`audit.outcome.${r.outcome}`) : r.outcome),
        h('td', {class: 'details'}, r.details ? h('span', {lang: 'en'}, r.details) : '')));
      const more = data.next_before_seq
        ? h('button', {type: 'button', onclick: (ev) => { ev.target.remove(); load(data.next_before_seq, true); }}, t('audit.more'))
        : null;
      if (append) {
        results.querySelector('tbody').append(...rows);
        if (more) results.append(more);
      } else {
        const tbl = table([t('audit.at'), t('audit.user'), t('audit.role'), t('audit.careUnit'), t('audit.action'),
          t('audit.patient'), t('audit.purpose'), t('audit.outcomeLabel'), t('audit.details')], rows);
        tbl.classList.add('audit-table');
        results.replaceChildren(rows.length ? tbl : h('p', {}, t('audit.empty')));
        if (more) results.append(more);
      }
    } catch (e) {
      if (turn !== loadTurn) return;
      const fe = e.code === 'invalid-personnummer';
      if (fe) fields.patient.setError(e.message);
      else results.replaceChildren(errorBox(e.message));
    } finally {
      if (turn === loadTurn) results.setAttribute('aria-busy', 'false');
    }
  }

  const exportLink = h('a', {class: 'button', href: '#'}, t('audit.export'));
  const extractLink = h('a', {class: 'button', href: '#'}, t('audit.extract'));
  const updateLinks = () => {
    exportLink.href = `/api/v1/audit/export.csv?${query()}`;
    const p = inputs.patient.value.trim();
    // The extract covers the period of the filter, if one is set (days in Swedish time).
    const period = new URLSearchParams({patient: p});
    for (const k of ['from', 'to']) if (inputs[k].value) period.set(k, inputs[k].value);
    extractLink.href = `#/extract?${period}`;
    extractLink.hidden = !p;
  };
  updateLinks();

  const form = h('form', {class: 'card filters', role: 'search'}, ...Object.values(fields), noiseField,
    h('button', {type: 'submit'}, t('audit.search')));
  form.addEventListener('input', updateLinks);
  form.addEventListener('change', updateLinks);
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
      verifyOut.replaceChildren(v.ok ? t('audit.verifyOk', {n: v.records})
        : t('audit.verifyBad', {seq: v.first_bad_seq}), v.ok ? '' : h('span', {lang: 'en'}, ` ${v.problem}`));
    } catch (e) {
      verifyOut.textContent = e.message;
    }
  }}, t('audit.verify'));

  load();
  return h('div', {}, h('h1', {}, t('audit.title')), h('p', {}, t('audit.intro')), form,
    h('p', {class: 'tools'}, exportLink, ' ', extractLink, ' ', verifyBtn), verifyOut, results);
}
