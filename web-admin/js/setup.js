// The first-run wizard, opened with the one-time link the box printed (setup.html#token=...):
// the clinic, host names and certificate, the region's trust anchor, the first admin. Each
// step is saved by the box when "next" is pressed; on (re)load the wizard asks the box which
// steps are done (/api/v1/setup/status) and goes on from there. Every request carries the
// token in its body, since there is no session yet.
import {api, ApiError} from './api.js';
import {h, field, errorBox, announce} from './dom.js';
import {t} from './i18n.js';

const main = document.getElementById('main');
const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
const steps = ['clinic', 'hosts', 'trust', 'admin'];
document.title = t('setup.wizardTitle');

// The progress list: which step this is and which are done.
function progress(current, done) {
  return h('nav', {'aria-label': t('setup.steps')}, h('ol', {class: 'wizard-steps'}, steps.map((s) => {
    const finished = s === 'trust' ? Boolean(done.trust) : Boolean(done[s]);
    return h('li', {'aria-current': s === current ? 'step' : null, class: finished ? 'done' : null},
      t(`setup.step.${s}`), finished ? h('span', {class: 'visually-hidden'}, ` ${t('setup.stepDone')}`) : null);
  })));
}

function card(current, status, ...children) {
  const n = steps.indexOf(current) + 1;
  return h('div', {class: 'card wizard', id: `step-${current}`},
    progress(current, status.done || {}),
    h('p', {class: 'hint'}, t('setup.stepOf', {n})),
    h('h1', {}, t(`setup.step.${current}`)), ...children);
}

// Shows a failed request: per-field errors next to their fields, anything else in `msg`.
function showError(e, fields, msg) {
  const fe = e instanceof ApiError ? e.fieldErrors : [];
  let placed = false;
  for (const err of fe) {
    const key = String(err.pointer || '').replace(/^\//, '').split('/')[0];
    if (fields[key]) {
      fields[key].setError(err.text);
      if (!placed) fields[key].querySelector('input, textarea')?.focus();
      placed = true;
    }
  }
  if (!placed) msg.replaceChildren(errorBox(e.message));
}

// A form whose submit runs `save` with the button disabled, clearing old errors first.
function wizardForm(fields, msg, save, ...extra) {
  const button = h('button', {type: 'submit', id: 'setup-next'}, t('setup.next'));
  const form = h('form', {novalidate: true}, msg, ...Object.values(fields), ...extra, h('div', {class: 'actions'}, button));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    Object.values(fields).forEach((f) => f.setError(''));
    msg.replaceChildren();
    button.disabled = true;
    try {
      await save();
    } catch (e) {
      showError(e, fields, msg);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function clinicStep(status) {
  const inputs = {
    name: h('input', {id: 'setup-clinic-name', autocomplete: 'organization', required: true, maxlength: 100,
      value: status.done.clinic ? status.clinic.name : ''}),
    hsa_id: h('input', {id: 'setup-hsa-id', required: true, maxlength: 31, spellcheck: 'false', value: status.clinic.hsa_id || ''}),
  };
  const fields = {
    name: field(t('setup.clinicName'), inputs.name),
    hsa_id: field(t('setup.hsaId'), inputs.hsa_id, t('setup.hsaIdHint')),
  };
  const msg = h('div', {'aria-live': 'assertive'});
  const form = wizardForm(fields, msg, async () => {
    const next = await api.post('/api/v1/setup/clinic', {token, name: inputs.name.value.trim(), hsa_id: inputs.hsa_id.value.trim()});
    show(next);
  });
  return {el: card('clinic', status, h('p', {}, t('setup.clinicIntro')), form), focus: inputs.name};
}

function hostsStep(status) {
  const hosts = status.hosts;
  const names = h('textarea', {id: 'setup-host-names', rows: 3, required: true, spellcheck: 'false'});
  names.value = (hosts.names || []).join('\n');
  const url = h('input', {id: 'setup-public-url', spellcheck: 'false', value: hosts.public_url || ''});
  // The URL follows the first name until the technician edits it.
  let urlEdited = Boolean(hosts.public_url);
  const derive = () => {
    if (urlEdited) return;
    const first = names.value.split(/[\s,]+/).find((x) => x) || '';
    const host = first.includes(':') && !first.startsWith('[') ? `[${first}]` : first;
    const port = Number(hosts.port);
    const def = hosts.tls ? 443 : 80;
    url.value = first ? `${hosts.tls ? 'https' : 'http'}://${host}${port && port !== def ? `:${port}` : ''}` : '';
  };
  names.addEventListener('input', derive);
  url.addEventListener('input', () => { urlEdited = url.value.trim() !== ''; });
  const fields = {
    names: field(t('setup.hostNames'), names, t('setup.hostNamesHint')),
    public_url: field(t('setup.publicUrl'), url, t('setup.publicUrlHint')),
  };
  const source = hosts.certificate?.source || 'none';
  const certNote = h('p', {id: 'setup-cert-note'}, t(source === 'generated' ? 'setup.certGenerated'
    : source === 'configured' ? 'setup.certConfigured' : 'setup.certNone'));
  const msg = h('div', {'aria-live': 'assertive'});
  const form = wizardForm(fields, msg, async () => {
    const list = names.value.split(/[\s,]+/).map((x) => x.trim()).filter((x) => x);
    const next = await api.post('/api/v1/setup/hosts', {token, names: list, public_url: url.value.trim()});
    certificateResult(next);
  }, certNote);
  return {el: card('hosts', status, h('p', {}, t('setup.hostsIntro')), form), focus: names};
}

// After step 2: the certificate now served, to compare with what the browser shows, and a
// way on at the new address (where the browser meets the new certificate) or here.
function certificateResult(status) {
  const cert = status.hosts.certificate || {};
  const url = status.hosts.public_url;
  const go = h('button', {type: 'button', id: 'setup-continue'}, t('setup.continueHere'));
  go.addEventListener('click', () => show(status));
  const body = [
    h('p', {class: 'ok', id: 'setup-cert-result'}, t(status.renewal?.renewed ? 'setup.certNew' : 'setup.certKept')),
  ];
  if (cert.fingerprint_sha256) {
    body.push(h('dl', {class: 'facts'},
      h('dt', {}, t('setup.fingerprint')), h('dd', {}, h('code', {id: 'setup-fingerprint'}, cert.fingerprint_sha256)),
      h('dt', {}, t('setup.certNames')), h('dd', {}, (cert.names || []).join(', '))));
    body.push(h('p', {class: 'hint'}, t('setup.fingerprintHint')));
  }
  if (url && !url.startsWith(location.origin)) {
    body.push(h('p', {}, h('a', {href: `${url}/setup.html#token=${encodeURIComponent(token)}`, id: 'setup-continue-at'},
      t('setup.continueAt', {url}))), h('p', {class: 'hint'}, t('setup.continueAtHint')));
  }
  body.push(h('div', {class: 'actions'}, go));
  main.replaceChildren(card('hosts', status, ...body));
  go.focus();
}

function readFile(input) {
  const f = input.files && input.files[0];
  return f ? f.text() : Promise.resolve('');
}

function trustStep(status) {
  const inputs = {
    region: h('input', {id: 'setup-region', maxlength: 100}),
    region_hsa_id: h('input', {id: 'setup-region-hsa-id', maxlength: 31, spellcheck: 'false'}),
    root_pem: h('input', {id: 'setup-root-pem', type: 'file', accept: '.pem,.crt,.cer'}),
    crl_pem: h('input', {id: 'setup-crl-pem', type: 'file', accept: '.pem,.crl'}),
  };
  const fields = {
    region: field(t('setup.regionName'), inputs.region),
    region_hsa_id: field(t('setup.regionHsaId'), inputs.region_hsa_id),
    root_pem: field(t('setup.rootPem'), inputs.root_pem),
    crl_pem: field(t('setup.crlPem'), inputs.crl_pem, t('setup.crlHint')),
  };
  const msg = h('div', {'aria-live': 'assertive'});
  const skip = h('button', {type: 'button', class: 'link', id: 'setup-skip'}, t('setup.skip'));
  skip.addEventListener('click', async () => {
    msg.replaceChildren();
    skip.disabled = true;
    try {
      show(await api.post('/api/v1/setup/trust', {token, skip: true}), t('setup.trustSkipped'));
    } catch (e) {
      showError(e, fields, msg);
    } finally {
      skip.disabled = false;
    }
  });
  const form = wizardForm(fields, msg, async () => {
    const root = await readFile(inputs.root_pem);
    if (!root) {
      fields.root_pem.setError(t('setup.noFile'));
      inputs.root_pem.focus();
      return;
    }
    const body = {token, region: inputs.region.value.trim(), region_hsa_id: inputs.region_hsa_id.value.trim(), root_pem: root};
    const crl = await readFile(inputs.crl_pem);
    if (crl) body.crl_pem = crl;
    const next = await api.post('/api/v1/setup/trust', body);
    const p = next.plugins || {};
    let note = t('setup.trustSaved');
    if (!p.reloaded) note += ` ${t('setup.pluginsDevelopment')}`;
    else if (p.refusal) note += ` ${t('setup.pluginsRefused', {reason: p.refusal})}`;
    else note += ` ${t('setup.pluginsReloaded', {running: p.running})}`;
    show(next, note);
  });
  const have = (status.trust?.regions || []).map((r) => r.name);
  return {
    el: card('trust', status, h('p', {}, t('setup.trustIntro')),
      have.length ? h('p', {}, t('setup.trustHave', {regions: have.join(', ')})) : null,
      form, h('p', {class: 'hint', id: 'setup-skip-hint'}, t('setup.trustSkipHint')), skip),
    focus: inputs.region,
  };
}

function adminStep(status) {
  const inputs = {
    username: h('input', {id: 'setup-username', autocomplete: 'username', required: true}),
    display_name: h('input', {id: 'setup-display-name', autocomplete: 'name'}),
    password: h('input', {id: 'setup-password', type: 'password', autocomplete: 'new-password', required: true}),
    password2: h('input', {id: 'setup-password2', type: 'password', autocomplete: 'new-password', required: true}),
  };
  const fields = {
    username: field(t('login.username'), inputs.username),
    display_name: field(t('setup.name'), inputs.display_name),
    password: field(t('users.password'), inputs.password),
    password2: field(t('setup.password2'), inputs.password2),
  };
  const msg = h('div', {'aria-live': 'assertive'});
  const form = wizardForm(fields, msg, async () => {
    if (inputs.password.value !== inputs.password2.value) {
      fields.password2.setError(t('setup.mismatch'));
      inputs.password2.focus();
      return;
    }
    const username = inputs.username.value.trim();
    const password = inputs.password.value;
    await api.post('/api/v1/auth/setup', {token, username, display_name: inputs.display_name.value.trim(), password});
    history.replaceState(null, '', '/setup.html');
    main.replaceChildren(h('div', {class: 'card narrow'}, h('h1', {}, t('setup.step.admin')),
      h('p', {class: 'ok', id: 'setup-done'}, t('setup.loggingIn'))));
    try {
      await api.post('/api/v1/auth/login', {username, password});
      location.assign('/');
    } catch {
      main.replaceChildren(h('div', {class: 'card narrow'}, h('p', {class: 'ok', id: 'setup-done'}, t('setup.done')),
        h('a', {href: '/', class: 'button'}, t('setup.toLogin'))));
    }
  });
  form.querySelector('#setup-next').textContent = t('setup.create');
  return {el: card('admin', status, h('p', {}, t('setup.adminIntro')), form), focus: inputs.username};
}

const render = {clinic: clinicStep, hosts: hostsStep, trust: trustStep, admin: adminStep};

// Shows the step the box says is next; `note` confirms what the previous step did.
function show(status, note) {
  const step = render[status.next] || adminStep;
  const {el, focus} = step(status);
  if (note) el.insertBefore(h('p', {class: 'ok', id: 'setup-note'}, note), el.querySelector('form'));
  main.replaceChildren(el);
  if (note) announce(note);
  focus.focus();
}

function finished() {
  main.replaceChildren(h('div', {class: 'card narrow'}, h('h1', {}, t('setup.wizardTitle')),
    h('p', {id: 'setup-already'}, t('setup.alreadyDone')), h('a', {href: '/', class: 'button'}, t('setup.toLogin'))));
}

async function start() {
  if (!token) {
    main.replaceChildren(h('div', {class: 'card narrow'}, h('h1', {}, t('setup.wizardTitle')), errorBox(t('setup.noToken'))));
    return;
  }
  try {
    show(await api.post('/api/v1/setup/status', {token}));
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) return finished();
    main.replaceChildren(h('div', {class: 'card narrow'}, h('h1', {}, t('setup.wizardTitle')), errorBox(e.message)));
  }
}

start();
