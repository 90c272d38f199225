// The console shell: session, banner, navigation by role, and a hash router over the pages.
import {api, setCsrf, ApiError} from './api.js';
import {h, announce, errorBox, setBoxTimeZone} from './dom.js';
import {t} from './i18n.js';
import loginPage from './pages/login.js';
import dashboardPage from './pages/dashboard.js';
import pluginsPage from './pages/plugins.js';
import outboxPage from './pages/outbox.js';
import usersPage from './pages/users.js';
import auditPage from './pages/audit.js';
import extractPage from './pages/extract.js';
import pluginsetsPage from './pages/pluginsets.js';
import luaPage from './pages/lua.js';
import apiRefPage from './pages/apiref.js';

const pages = [
  {path: '', key: 'nav.dashboard', render: dashboardPage, roles: null},
  {path: 'plugins', key: 'nav.plugins', render: pluginsPage, roles: ['admin', 'it']},
  {path: 'pluginsets', key: 'nav.pluginsets', render: pluginsetsPage, roles: ['admin', 'it']},
  {path: 'outbox', key: 'nav.outbox', render: outboxPage, roles: ['admin', 'it']},
  {path: 'lua', key: 'nav.lua', render: luaPage, roles: ['it', 'admin']},
  {path: 'api', key: 'nav.api', render: apiRefPage, roles: ['it', 'admin']},
  {path: 'users', key: 'nav.users', render: usersPage, roles: ['admin']},
  {path: 'audit', key: 'nav.audit', render: auditPage, roles: ['auditor']},
  {path: 'extract', key: null, render: extractPage, roles: ['auditor']},
];

const state = {user: null, pluginPages: []};

function allowed(page) {
  return !page.roles || (state.user && page.roles.includes(state.user.role));
}

async function showBanner() {
  const banner = document.getElementById('banner');
  try {
    const ready = await api.get('/readyz');
    const msgs = [];
    if (ready.mode !== 'production') msgs.push(t('app.devBanner'));
    const set = ready.plugin_set || {};
    if (set.refusal) msgs.push(t('app.setRefused', {reason: set.refusal}));
    if (set.status === 'expired-in-grace') msgs.push(t('app.setExpired'));
    if (set.status === 'expiring-soon') msgs.push(t('app.setExpiring'));
    // Signer certificates and CRLs that stop the set soon (the set's own date is above).
    for (const e of set.expiries || []) {
      if (!e.warning || e.kind === 'set') continue;
      const days = String(Math.max(0, e.days_left));
      if (e.kind === 'signer') msgs.push(t('app.signerExpiring', {name: e.name, days}));
      if (e.kind === 'crl') msgs.push(t('app.crlDue', {name: e.name, days}));
    }
    if (ready.disk_warning) msgs.push(t('app.lowDisk'));
    if (ready.status === 'degraded' && !set.refusal && !ready.disk_warning) msgs.push(t('app.degraded'));
    banner.textContent = msgs.join(' ');
    banner.hidden = msgs.length === 0;
  } catch {
    banner.hidden = true;
  }
}

function renderNav() {
  const nav = document.getElementById('nav');
  const current = location.hash.replace(/^#\/?/, '').split('?')[0].split('/')[0];
  const items = pages.filter((p) => p.key && allowed(p)).map((p) =>
    h('a', {href: `#/${p.path}`, 'aria-current': current === p.path ? 'page' : false}, t(p.key)));
  for (const pp of state.pluginPages) {
    const path = `page/${pp.plugin}/${pp.id}`;
    items.push(h('a', {href: `#/${path}`, 'aria-current': location.hash === `#/${path}` ? 'page' : false}, pp.title));
  }
  // Clicking the page one is on loads its data again (the hash does not change, so no
  // hashchange would).
  for (const a of items) {
    a.addEventListener('click', (ev) => {
      if (a.getAttribute('href') === (location.hash || '#/')) {
        ev.preventDefault();
        route({type: 'reload'});
      }
    });
  }
  nav.replaceChildren(...items);
}

let routeTurn = 0;  // the latest route(); an older one that finishes late leaves aria-busy alone

// Renders the page of the current hash. Focus moves to the content only when the user
// navigated (not on first load, where it would take focus from the skip link).
async function route(ev) {
  const main = document.getElementById('main');
  // Busy until the page has rendered: assistive technology waits, and so can tests.
  const turn = ++routeTurn;
  main.setAttribute('aria-busy', 'true');
  try {
    await renderRoute(main, ev, turn);
  } finally {
    if (turn === routeTurn) main.setAttribute('aria-busy', 'false');
  }
}

// A route started later (the user clicked on while this page loaded) owns main: an older
// one stops at its next await instead of replacing the newer page.
async function renderRoute(main, ev, turn) {
  const stale = () => turn !== routeTurn;
  if (!state.user) {
    document.getElementById('top').hidden = true;
    main.replaceChildren(loginPage({onLogin}));
    return;
  }
  document.getElementById('top').hidden = false;
  renderNav();
  const [path, ...rest] = location.hash.replace(/^#\/?/, '').split('?')[0].split('/');
  main.replaceChildren(h('p', {}, t('app.loading')));
  try {
    if (path === 'page') {
      const pp = state.pluginPages.find((p) => p.plugin === rest[0] && p.id === rest[1]);
      if (!pp) throw new Error(t('app.error'));
      const mod = await import(pp.script);
      if (stale()) return;
      const root = h('section', {'aria-label': pp.title});
      const title = h('h1', {}, pp.title);
      main.replaceChildren(title, root);
      // A page with its own heading keeps one h1: most pages put it before their first
      // await, so the generic title goes at once instead of staying beside it while the
      // page loads; a page that adds its heading later loses the title when it is done.
      const dropTitle = () => { if (root.querySelector('h1')) title.remove(); };
      const rendering = mod.default(root, api);
      dropTitle();
      await rendering;
      if (stale()) return;
      dropTitle();
    } else {
      const page = pages.find((p) => p.path === path && allowed(p)) || pages[0];
      const content = await page.render({api, user: state.user, params: rest, refresh: route});
      if (stale()) return;
      main.replaceChildren(content);
    }
  } catch (e) {
    if (stale()) return;
    if (e instanceof ApiError && e.status === 401) {
      state.user = null;
      return route();
    }
    main.replaceChildren(errorBox(`${t('app.error')}: ${e.message}`));
  }
  if (ev) main.focus();
}

async function loadSession() {
  try {
    const s = await api.get('/api/v1/auth/session');
    state.user = s.user;
    setCsrf(s.csrf_token);
    setBoxTimeZone(s.timezone);
    const who = document.getElementById('who');
    who.textContent = t('app.whoami', {name: s.user.display_name || s.user.username, role: t(`role.${s.user.role}`)});
    if (s.clinic) document.getElementById('brand').textContent = s.clinic;
    const pp = await api.get('/api/v1/console/pages');
    state.pluginPages = pp.pages;
  } catch {
    state.user = null;
  }
}

async function onLogin() {
  await loadSession();
  announce(t('app.whoami', {name: state.user?.username, role: t(`role.${state.user?.role}`)}));
  if (location.hash !== '#/') location.hash = '#/';
  else route({type: 'login'});
}

async function logout() {
  try {
    await api.post('/api/v1/auth/logout');
  } finally {
    state.user = null;
    setCsrf('');
    location.hash = '#/';
    route({type: 'logout'});
  }
}

function init() {
  document.getElementById('skip-link').textContent = t('app.skip');
  const logoutBtn = document.getElementById('logout');
  logoutBtn.textContent = t('app.logout');
  logoutBtn.addEventListener('click', logout);
  window.addEventListener('hashchange', route);
  showBanner();
  loadSession().then(() => route());
}

init();
