// Administration: care units, practitioners, visit types, weekly schedules, closed days and
// the computed holidays.
import {h, field, table, errorBox, announce} from '/js/dom.js';
import {t} from './strings.js';

const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

// A small form: inputs by name, posted as JSON; `shape` turns the values into the body.
// Its answer (saved, or what was wrong) appears in the form itself, next to its button.
function form(api, title, inputs, path, shape, reload, msg) {
  const els = Object.fromEntries(inputs.map(([name, label, el]) => [name, {label, el}]));
  const local = h('div', {'aria-live': 'polite'});
  const f = h('form', {class: 'card'}, h('h2', {}, title),
    Object.values(els).map(({label, el}) => (el.tagName === 'FIELDSET' ? el : field(label, el))),
    h('button', {type: 'submit'}, t('add')), local);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = Object.fromEntries(Object.entries(els).map(([k, {el}]) => [k,
      el.tagName === 'FIELDSET' ? el.value : el.type === 'checkbox' ? el.checked : el.value.trim()]));
    try {
      await api.post(path, shape(v));
      announce(t('saved'));
      await reload();
      msg.replaceChildren(h('p', {class: 'ok'}, t('saved')));
    } catch (e) {
      local.replaceChildren(errorBox(e.message));
    }
  });
  return f;
}

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

// Weekdays as seven checkboxes (1 = Monday); `value` is the checked days' numbers.
function weekdayPicker(checked = [1, 2, 3, 4, 5]) {
  const boxes = WEEKDAYS.map((d, i) => h('input', {type: 'checkbox', id: `wd-${d}`, value: String(i + 1), checked: checked.includes(i + 1)}));
  const fs = h('fieldset', {class: 'weekdays'}, h('legend', {}, t('weekdays')),
    boxes.map((b, i) => h('label', {for: b.id}, b, ' ', t(`wd.${WEEKDAYS[i]}`))));
  Object.defineProperty(fs, 'value', {get: () => boxes.filter((b) => b.checked).map((b) => Number(b.value))});
  return fs;
}

// "1,2,3,4,5" as "mån, tis, ons, tors, fre".
const weekdayNames = (list) => String(list).split(',').map(Number).filter((n) => n >= 1 && n <= 7)
  .map((n) => t(`wdShort.${WEEKDAYS[n - 1]}`)).join(', ');

const input = (attrs = {}) => h('input', {type: 'text', autocomplete: 'off', ...attrs});

export default async function render(root, api) {
  const msg = h('div', {'aria-live': 'polite'});
  const load = async () => {
    const s = await api.get('/api/v1/booking/setup');
    const year = new Date().getFullYear();
    const hol = await api.get(`/api/v1/booking/holidays?year=${year}`);
    const unitSel = () => h('select', {}, s.units.map((u) => h('option', {value: u.hsa_id}, u.name)));
    const pracSel = () => h('select', {}, s.practitioners.map((p) => h('option', {value: p.hsa_id}, p.name)));
    const typeSel = () => h('select', {}, s.visit_types.map((v) => h('option', {value: v.id}, v.name)));
    const nameOf = (list, key, id) => list.find((x) => x[key] === id)?.name || id;
    const unitName = (id) => nameOf(s.units, 'hsa_id', id);
    const formSel = () => h('select', {}, ['physical', 'video', 'phone'].map((f) => h('option', {value: f}, t(`form.${f}`))));
    const parts = [msg,
      h('h2', {}, t('units')),
      table([t('hsa'), t('name'), t('address')], s.units.map((u) => h('tr', {}, h('td', {}, u.hsa_id), h('td', {}, u.name), h('td', {}, u.address)))),
      form(api, `${t('add')}: ${t('unit')}`, [['hsa_id', t('hsa'), input()], ['name', t('name'), input()], ['address', t('address'), input()]],
        '/api/v1/booking/units', (v) => v, load, msg),
      h('h2', {}, t('practitioners')),
      table([t('hsa'), t('name'), t('profession'), t('unit')], s.practitioners.map((p) =>
        h('tr', {}, h('td', {}, p.hsa_id), h('td', {}, p.name), h('td', {}, p.profession), h('td', {}, unitName(p.unit))))),
      s.units.length ? form(api, `${t('add')}: ${t('practitioner')}`, [['hsa_id', t('hsa'), input()], ['name', t('name'), input()],
        ['profession', t('profession'), input()], ['unit', t('unit'), unitSel()]], '/api/v1/booking/practitioners', (v) => v, load, msg) : null,
      h('h2', {}, t('visitTypes')),
      table([t('id'), t('name'), t('visitForm'), t('minutes'), t('profession'), t('vipBookable')], s.visit_types.map((v) =>
        h('tr', {}, h('td', {}, v.id), h('td', {}, v.name), h('td', {}, t(`form.${v.visit_form}`)), h('td', {}, v.minutes),
          h('td', {}, v.profession), h('td', {}, v.vip_bookable ? '✓' : '')))),
      form(api, `${t('add')}: ${t('visitType')}`, [['id', t('id'), input()], ['name', t('name'), input()], ['visit_form', t('visitForm'), formSel()],
        ['minutes', t('minutes'), input({type: 'number', min: 5, max: 480, value: 20})], ['profession', t('profession'), input()],
        ['vip_bookable', t('vipBookable'), h('input', {type: 'checkbox'})]], '/api/v1/booking/visittypes',
      (v) => ({...v, minutes: Number(v.minutes)}), load, msg),
      h('h2', {}, t('schedules')),
      table([t('practitioner'), t('visitType'), t('weekdaysCol'), t('start'), t('end'), t('breaks'), t('validFrom'), t('validTo'), t('actions')],
        s.schedules.map((r) => h('tr', {}, h('td', {}, nameOf(s.practitioners, 'hsa_id', r.practitioner)),
          h('td', {}, nameOf(s.visit_types, 'id', r.visit_type)), h('td', {}, weekdayNames(r.weekdays)),
          h('td', {}, hhmm(r.start_min)), h('td', {}, hhmm(r.end_min)),
          h('td', {}, r.breaks.split(',').filter(Boolean).map((b) => b.split('-').map(Number).map(hhmm).join('-')).join(', ')),
          h('td', {}, r.valid_from), h('td', {}, r.valid_to),
          h('td', {}, h('button', {type: 'button', class: 'danger', onclick: async () => {
            if (!window.confirm(t('confirmEnd'))) return;
            try {
              await api.del(`/api/v1/booking/schedules/${r.id}`);
              await load();
            } catch (e) {
              msg.replaceChildren(errorBox(e.message));
            }
          }}, t('endSchedule')))))),
      s.practitioners.length && s.visit_types.length ? form(api, `${t('add')}: ${t('schedules')}`, [
        ['practitioner', t('practitioner'), pracSel()], ['visit_type', t('visitType'), typeSel()],
        ['weekdays', t('weekdays'), weekdayPicker()], ['start', t('start'), input({value: '08:00'})],
        ['end', t('end'), input({value: '16:00'})], ['breaks', t('breaks'), input({value: '12:00-13:00'})],
        ['valid_from', t('validFrom'), input({type: 'date'})], ['valid_to', t('validTo'), input({type: 'date'})]],
      '/api/v1/booking/schedules', (v) => ({...v, weekdays: v.weekdays,
        breaks: v.breaks ? v.breaks.split(',').map((x) => x.trim()).filter(Boolean) : []}), load, msg) : null,
      h('h2', {}, t('closedDays')),
      table([t('unit'), t('date'), t('reasonClosed'), t('actions')], s.closed_days.map((c) => h('tr', {}, h('td', {}, unitName(c.unit)),
        h('td', {}, c.date), h('td', {}, c.reason),
        h('td', {}, h('button', {type: 'button', onclick: async () => {
          if (!window.confirm(t('confirmOpenDay', {date: c.date}))) return;
          try {
            const r = await api.del(`/api/v1/booking/closeddays/${encodeURIComponent(c.unit)}/${encodeURIComponent(c.date)}`);
            await load();
            const text = t('dayOpened', {date: c.date, count: r && r.free_slots !== undefined ? r.free_slots : 0});
            msg.replaceChildren(h('p', {class: 'ok'}, text));
            announce(text);
          } catch (e) {
            msg.replaceChildren(errorBox(e.message));
          }
        }}, t('openDay')))))),
      s.units.length ? form(api, `${t('add')}: ${t('closedDays')}`, [['unit', t('unit'), unitSel()], ['date', t('date'), input({type: 'date'})],
        ['reason', t('reasonClosed'), input()]], '/api/v1/booking/closeddays', (v) => v, load, msg) : null,
      h('h2', {}, t('holidays', {year})),
      table([t('date'), t('name')], hol.holidays.map((x) => h('tr', {}, h('td', {}, x.date), h('td', {}, x.name)))),
    ];
    root.replaceChildren(...parts.filter(Boolean));
  };
  await load();
}
