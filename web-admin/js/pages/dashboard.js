// The dashboard: "Dagens arbete" with the figures the plugins give (each plugin with a page
// for the caller's role may answer GET /api/v1/<plugin>/figures), the outbox's dead letters,
// the plugin set's and certificates' expiry warnings, a chart of the week as inline SVG, and
// the box's state.
import {h, table, boxDay, formatTime} from '../dom.js';
import {t} from '../i18n.js';

function dl(pairs) {
  return h('dl', {class: 'facts'}, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// Bars per day with the number above each; the same numbers as a table for screen readers.
export function weekChart(chart) {
  const days = chart.days || [];
  const max = Math.max(1, ...days.map((d) => d.value));
  const w = 44, gap = 12, top = 20, height = 120, bottom = 22;
  const today = boxDay();
  const names = t('dash.weekdays').split(',');
  const bars = days.map((d, i) => {
    const bh = Math.round((d.value / max) * height);
    const x = i * (w + gap);
    const y = top + height - bh;
    return svg('g', {},
      svg('rect', {x, y, width: w, height: Math.max(bh, 1), rx: 3, class: d.date === today ? 'bar today' : 'bar'}),
      svg('text', {x: x + w / 2, y: y - 5, 'text-anchor': 'middle', class: 'bar-value'}, d.value),
      svg('text', {x: x + w / 2, y: top + height + 16, 'text-anchor': 'middle', class: 'bar-label'}, names[i] || d.date.slice(5)));
  });
  const width = days.length * (w + gap);
  const figure = svg('svg', {viewBox: `0 0 ${width} ${top + height + bottom}`, width, height: top + height + bottom,
    role: 'img', 'aria-label': `${chart.title}: ${days.map((d, i) => `${names[i] || d.date} ${d.value}`).join(', ')}`}, ...bars);
  return h('figure', {class: 'week-chart'}, h('figcaption', {}, chart.title), figure);
}

async function pluginFigures(api, pages) {
  const plugins = [...new Set(pages.map((p) => p.plugin))];
  const answers = await Promise.all(plugins.map((id) => api.get(`/api/v1/${encodeURIComponent(id)}/figures`).catch(() => null)));
  return answers.filter(Boolean);
}

function figureTile(f) {
  const body = [h('span', {class: 'figure-value'}, String(f.value)), h('span', {class: 'figure-label'}, f.label)];
  return h('li', {class: `figure${f.tone === 'warn' ? ' warn' : ''}`}, f.href ? h('a', {href: f.href}, ...body) : body);
}

export default async function dashboardPage({api, user}) {
  const ready = await api.get('/readyz');
  const set = ready.plugin_set || {};
  const {pages} = await api.get('/api/v1/console/pages');
  const answers = await pluginFigures(api, pages);
  const figures = answers.flatMap((a) => a.figures || []);
  const charts = answers.map((a) => a.chart).filter(Boolean);
  let outbox = null;
  if (user.role === 'admin' || user.role === 'it') {
    outbox = await api.get('/api/v1/outbox?limit=1');
    figures.push({key: 'outbox_dead', label: t('dash.deadLetters'), value: outbox.counts.dead, href: '#/outbox',
      tone: outbox.counts.dead > 0 ? 'warn' : ''});
  }
  // The plugin set, its signers' certificates and the region's CRL: what stops the plugins.
  const warnings = (set.expiries || []).filter((e) => e.warning).map((e) =>
    t(`dash.expiry.${e.kind}`, {name: e.name || '', days: String(Math.max(0, e.days_left))}));

  const today = h('section', {class: 'card wide', 'aria-labelledby': 'd-today'}, h('h2', {id: 'd-today'}, t('dash.today')),
    figures.length ? h('ul', {class: 'figures'}, figures.map(figureTile)) : h('p', {}, t('dash.todayEmpty')),
    warnings.length ? h('ul', {class: 'warnings'}, warnings.map((w) => h('li', {}, w))) : null,
    charts.map(weekChart));
  const sections = [
    h('h1', {}, t('dash.title')),
    today,
    h('section', {class: 'card', 'aria-labelledby': 'd-box'}, h('h2', {id: 'd-box'}, t('dash.box')),
      dl([[t('dash.mode'), t(`dash.mode.${ready.mode}`)], [t('dash.database'), ready.database]])),
    h('section', {class: 'card', 'aria-labelledby': 'd-set'}, h('h2', {id: 'd-set'}, t('dash.set')),
      dl([[t('dash.setName'), set.name || '–'], [t('dash.setSigned'), set.signed ? t('yes') : t('no')],
        [t('dash.setRegion'), set.region || '–'], [t('dash.setExpires'), set.expires || '–'],
        [t('dash.setStatus'), t(`setstatus.${set.status}`)]])),
    h('section', {class: 'card', 'aria-labelledby': 'd-plugins'}, h('h2', {id: 'd-plugins'}, t('dash.plugins')),
      table([t('plugins.id'), t('plugins.version'), t('plugins.state')],
        ready.plugins.map((p) => h('tr', {}, h('td', {}, h('code', {}, p.id)), h('td', {}, p.version),
          h('td', {class: `state-${p.state}`}, t(`state.${p.state}`), p.reason ? h('span', {lang: 'en'}, ` – ${p.reason}`) : ''))))),
  ];
  if (outbox) {
    sections.push(h('section', {class: 'card', 'aria-labelledby': 'd-outbox'}, h('h2', {id: 'd-outbox'}, t('dash.outbox')),
      dl([[t('outbox.pending'), outbox.counts.pending], [t('outbox.dead'), outbox.counts.dead],
        [t('outbox.delivered'), outbox.counts.delivered]])));
    const tls = await api.get('/api/v1/system/tls');
    sections.push(h('section', {class: 'card', 'aria-labelledby': 'd-tls'}, h('h2', {id: 'd-tls'}, t('dash.tls')),
      tls.enabled
        ? [dl([[t('dash.tlsFingerprint'), h('code', {id: 'tls-fingerprint'}, tls.fingerprint_sha256)],
          [t('dash.tlsNames'), tls.names.join(', ')], [t('dash.tlsExpires'), formatTime(tls.not_after)],
          [t('dash.tlsSource'), t(`dash.tlsSource.${tls.source}`)]]), h('p', {}, t('dash.tlsHint'))]
        : h('p', {}, t('dash.tlsOff'))));
  }
  return h('div', {class: 'grid'}, sections);
}
