// The application shell: session, navigation by role, language, the live
// connection, and the pages.
import { html, render, useState, useEffect } from './html.js';
import { t, setLang, initialLang, lang, LANGS } from './i18n.js';
import * as API from './api.js';
import { Live } from './live.js';
import { parseHash, navigate } from './route.js';
import { Console } from './console.js';
import { Watch } from './watch.js';
import { Search } from './search.js';
import { Dashboard } from './dashboard.js';
import { Admin } from './admin.js';
import { Offers } from './offers.js';

// pages, in navigation order, with the permission each needs.
const PAGES = [
  { id: 'console', label: 'nav.console', can: (p) => p.has('read_tickets'), view: Console },
  { id: 'watch', label: 'nav.watch', can: (p) => p.has('read_mentions'), view: Watch },
  { id: 'search', label: 'nav.search', can: (p) => p.has('search'), view: Search },
  { id: 'dashboard', label: 'nav.dashboard', can: (p) => p.has('read_kpis'), view: Dashboard },
  { id: 'offers', label: 'nav.offers', can: (p) => p.has('read_offers'), view: Offers },
  { id: 'admin', label: 'nav.admin', can: (p) => p.has('manage_users') || p.has('manage_rules') || p.has('manage_sources'), view: Admin },
];

// Each role lands where it works.
const HOME = { agent: 'console', monitor: 'watch', manager: 'dashboard', admin: 'console' };

function topicsFor(perms) {
  const topics = [];
  if (perms.has('read_tickets')) topics.push('tickets', 'presence');
  if (perms.has('read_mentions')) topics.push('mentions');
  if (perms.has('read_alerts')) topics.push('alerts');
  if (perms.has('read_kpis')) topics.push('kpis');
  return topics;
}

function App() {
  const [, setLangTick] = useState(lang());
  const [session, setSession] = useState(undefined); // undefined: loading; null: logged out
  const [route, setRoute] = useState(parseHash());
  const [live, setLive] = useState(null);
  const [liveStatus, setLiveStatus] = useState('connecting');

  useEffect(() => {
    const onHash = () => setRoute(parseHash());
    addEventListener('hashchange', onHash);
    API.setUnauthorizedHandler(() => setSession(null));
    API.me().then((m) => setSession(m), () => setSession(null));
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    if (!session) return undefined;
    const perms = new Set(session.permissions || []);
    const l = new Live(topicsFor(perms));
    const off = l.on('status', setLiveStatus);
    setLive(l);
    return () => { off(); l.close(); setLive(null); };
  }, [session]);

  const changeLang = async (l) => { await setLang(l); setLangTick(l); };

  if (session === undefined) return html`<p class="boot">${t('app.loading')}</p>`;
  if (session === null) {
    return html`<${Login} onLogin=${setSession} onLang=${changeLang} />`;
  }
  const perms = new Set(session.permissions || []);
  const allowed = PAGES.filter((p) => p.can(perms));
  let page = allowed.find((p) => p.id === route.page);
  if (!page) {
    page = allowed.find((p) => p.id === HOME[session.role]) || allowed[0];
  }
  const logout = async () => {
    await API.logout();
    setSession(null);
    navigate('');
  };
  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>${t('app.skip')}</a>
    <header class="top">
      <a class="brand" href="#/" aria-label="Vigie">
        <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true"><rect width="32" height="32" rx="7" fill="#2563eb"/><circle cx="16" cy="16" r="7" fill="none" stroke="#fff" stroke-width="3"/><circle cx="16" cy="16" r="2.5" fill="#fff"/></svg>
        <span>Vigie</span>
      </a>
      <nav aria-label=${t('nav.label')}>
        ${allowed.map((p) => html`<a href=${'#/' + p.id} class=${p === page ? 'active' : ''} aria-current=${p === page ? 'page' : null} data-nav=${p.id}>${t(p.label)}</a>`)}
      </nav>
      <div class="top-right">
        <span class=${'live-dot ' + liveStatus} role="status" title=${t('live.' + liveStatus)}>${t('live.' + liveStatus)}</span>
        <label class="lang">
          <span class="sr-only">${t('app.language')}</span>
          <select id="lang" value=${lang()} onChange=${(e) => changeLang(e.target.value)}>
            ${LANGS.map((l) => html`<option value=${l}>${l.toUpperCase()}</option>`)}
          </select>
        </label>
        <span class="who" title=${t('role.' + session.role)}>${session.user} · <span class="muted">${t('role.' + session.role)}</span></span>
        <button class="btn ghost" id="logout" onClick=${logout}>${t('app.logout')}</button>
      </div>
    </header>
    <main id="main" tabindex="-1">
      ${live && html`<${page.view} key=${page.id} route=${route} session=${session} perms=${perms} live=${live} />`}
    </main>`;
}

function Login({ onLogin, onLang }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [tokenMode, setTokenMode] = useState(false);
  const [tok, setTok] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      if (tokenMode) {
        onLogin(await API.loginWithToken(tok));
      } else {
        await API.login(user, password);
        onLogin(await API.me());
      }
    } catch (err) {
      if (!tokenMode && (err.status === 404 || err.status === 405)) { // no user accounts on this server
        setTokenMode(true);
        setError(t('login.noAccounts'));
      } else if (err.status === 401) {
        setError(tokenMode ? t('login.badToken') : t('login.bad'));
      } else if (err.status === 429) {
        setError(t('login.throttled'));
      } else {
        setError(err.message);
      }
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main class="login" id="main">
      <form class="card login-card" onSubmit=${submit} aria-labelledby="login-title">
        <div class="login-head">
          <svg viewBox="0 0 32 32" width="40" height="40" aria-hidden="true"><rect width="32" height="32" rx="7" fill="#2563eb"/><circle cx="16" cy="16" r="7" fill="none" stroke="#fff" stroke-width="3"/><circle cx="16" cy="16" r="2.5" fill="#fff"/></svg>
          <div>
            <h1 id="login-title">Vigie</h1>
            <p class="muted">${t('login.tagline')}</p>
          </div>
        </div>
        ${tokenMode ? html`
          <label for="token">${t('login.token')}</label>
          <input id="token" type="password" autocomplete="off" required value=${tok} onInput=${(e) => setTok(e.target.value)} />
        ` : html`
          <label for="user">${t('login.user')}</label>
          <input id="user" name="username" autocomplete="username" required autofocus value=${user} onInput=${(e) => setUser(e.target.value)} />
          <label for="password">${t('login.password')}</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required value=${password} onInput=${(e) => setPassword(e.target.value)} />
        `}
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <button class="btn primary" id="login-submit" type="submit" disabled=${busy}>${t('login.submit')}</button>
        <div class="login-foot">
          <button type="button" class="link" id="token-mode" onClick=${() => { setTokenMode(!tokenMode); setError(''); }}>
            ${tokenMode ? t('login.usePassword') : t('login.useToken')}
          </button>
          <select aria-label=${t('app.language')} value=${lang()} onChange=${(e) => onLang(e.target.value)}>
            ${LANGS.map((l) => html`<option value=${l}>${t('lang.' + l)}</option>`)}
          </select>
        </div>
      </form>
    </main>`;
}

setLang(initialLang()).then(
  () => render(html`<${App} />`, document.getElementById('app')),
  (e) => { document.getElementById('app').textContent = 'Vigie: ' + e.message; },
);
