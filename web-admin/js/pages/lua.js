// Lua scripts (role it; admin may look): every hook script by file name, its state,
// counters and last error; open one to read or edit it; a dry run against a sample payload;
// saving is compile-checked by the box (a refused script never replaces the running one)
// and audit-logged.
import {h, table, formatTime, announce, errorBox, field} from '../dom.js';
import {t} from '../i18n.js';

const starter = () => `-- ${t('lua.starterComment')}\nkb.on("booking.requested", function(event)\n  -- event.payload ...\nend)\n`;

function statusText(s) {
  if (s.refused && s.loaded) return t('lua.state.refusedOld', {version: s.version});
  if (s.refused) return t('lua.state.refused');
  return s.loaded ? t('lua.state.running', {version: s.version}) : t('lua.state.notLoaded');
}

function dryRunPanel(api, sourceOf, fileOf) {
  const event = h('input', {type: 'text', value: 'booking.requested', autocomplete: 'off'});
  const payload = h('textarea', {rows: 8, spellcheck: 'false', class: 'code'},
    '{\n  "patient": "191212121212",\n  "visit_form": "video",\n  "start": "2026-11-25T09:00:00+01:00"\n}');
  const out = h('div', {'aria-live': 'polite', class: 'dryrun-result'});
  const fPayload = field(t('lua.dry.payload'), payload, t('lua.dry.payloadHint'));
  const run = async () => {
    fPayload.setError('');
    let body;
    try {
      body = JSON.parse(payload.value);
    } catch (e) {
      fPayload.setError(t('lua.dry.badJson', {msg: e.message}));
      return;
    }
    try {
      const r = await api.post('/api/v1/lua/dryrun', {file: fileOf(), source: sourceOf(), event: event.value.trim(), payload: body});
      const lines = [];
      if (r.error) lines.push(h('p', {class: 'error', role: 'alert'}, t('lua.dry.error', {text: r.error.text})));
      else if (!r.hooked) lines.push(h('p', {}, t('lua.dry.notHooked', {event: event.value.trim()})));
      else if (r.vetoed) lines.push(h('p', {class: 'warning'}, t('lua.dry.vetoed', {reason: r.reason})));
      else lines.push(h('p', {}, t('lua.dry.accepted')));
      if (r.changes?.length) lines.push(h('h3', {}, t('lua.dry.changes')), h('pre', {class: 'code'}, r.changes.join('\n')));
      if (r.payload) lines.push(h('h3', {}, t('lua.dry.newPayload')), h('pre', {class: 'code'}, JSON.stringify(r.payload, null, 2)));
      if (r.log?.length) lines.push(h('h3', {}, t('lua.dry.log')), h('pre', {class: 'code'}, r.log.join('\n')));
      out.replaceChildren(...lines);
    } catch (e) {
      out.replaceChildren(errorBox(e.message));
    }
  };
  return h('section', {'aria-labelledby': 'dry-h'},
    h('h2', {id: 'dry-h'}, t('lua.dry.title')), h('p', {}, t('lua.dry.intro')),
    field(t('lua.dry.event'), event), fPayload,
    h('button', {type: 'button', onclick: run}, t('lua.dry.run')), out);
}

async function editor({api, user, file, isNew}) {
  const data = isNew ? {file, source: starter(), hash: ''} : await api.get(`/api/v1/lua/scripts/${encodeURIComponent(file)}`);
  let base = data.hash;
  const canEdit = user.role === 'it';
  const src = h('textarea', {rows: 24, spellcheck: 'false', class: 'code', readonly: !canEdit}, data.source);
  const msg = h('div', {'aria-live': 'polite'});
  const save = async () => {
    try {
      const r = await api.put(`/api/v1/lua/scripts/${encodeURIComponent(file)}`, {source: src.value, base_hash: base});
      base = r.hash;
      msg.replaceChildren(h('p', {class: 'ok'}, t('lua.saved', {file, version: r.status?.version ?? ''})));
      announce(t('lua.saved', {file, version: r.status?.version ?? ''}));
    } catch (e) {
      msg.replaceChildren(errorBox(e.message));
    }
  };
  return h('div', {},
    h('p', {}, h('a', {href: '#/lua'}, t('lua.back'))),
    h('h1', {}, t('lua.editTitle', {file})),
    data.status?.error ? errorBox(t('lua.lastError', {error: data.status.error})) : null,
    field(t('lua.source'), src, canEdit ? t('lua.sourceHint') : t('lua.readOnly')),
    canEdit ? h('button', {type: 'button', onclick: save}, t('lua.save')) : null, msg,
    dryRunPanel(api, () => src.value, () => file));
}

export default async function luaPage(ctx) {
  const {api, user} = ctx;
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  if (q.get('file')) return editor({api, user, file: q.get('file'), isNew: q.get('new') === '1'});
  const data = await api.get('/api/v1/lua/scripts');
  const rows = data.scripts.map((s) => h('tr', {},
    h('td', {}, h('a', {href: `#/lua?file=${encodeURIComponent(s.file)}`}, s.file)),
    h('td', {}, statusText(s)),
    h('td', {}, s.events.join(', ')),
    h('td', {}, `${s.counters.calls} / ${s.counters.vetoes} / ${s.counters.errors}`),
    h('td', {}, s.error ? h('span', {class: 'error-text'}, `${s.error} (${formatTime(s.error_at)})`) : '')));
  const newName = h('input', {type: 'text', placeholder: 'triage.lua', autocomplete: 'off', pattern: '[A-Za-z0-9][A-Za-z0-9_.-]*\\.lua'});
  const fNew = field(t('lua.newName'), newName);
  const create = () => {
    const name = newName.value.trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\.lua$/.test(name)) {
      fNew.setError(t('lua.badName'));
      return;
    }
    if (data.scripts.some((s) => s.file === name)) {
      fNew.setError(t('lua.exists'));
      return;
    }
    location.hash = `#/lua?file=${encodeURIComponent(name)}&new=1`;
  };
  return h('div', {},
    h('h1', {}, t('lua.title')),
    h('p', {}, t('lua.intro', {dir: data.scripts_dir || t('lua.noDir')})),
    h('p', {class: 'hint'}, t('lua.limits', {ms: data.limits.time_ms, mb: Math.round(data.limits.memory_bytes / 1048576)})),
    rows.length ? table([t('lua.file'), t('lua.state'), t('lua.events'), t('lua.counters'), t('lua.error')], rows)
      : h('p', {}, t('lua.none')),
    user.role === 'it' && data.editable ? h('section', {}, h('h2', {}, t('lua.newTitle')), fNew,
      h('button', {type: 'button', onclick: create}, t('lua.create'))) : null);
}
