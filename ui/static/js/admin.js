// Administration: users, queues, rules and sources, as far as the server
// exposes them today; what it does not expose yet is said, not faked.
import { html, useState, useEffect } from './html.js';
import { t, num, duration, dateTime, time, ago } from './i18n.js';
import { get, api, post, missing } from './api.js';
import { Empty, ErrorNote } from './common.js';

const ROLES = ['agent', 'monitor', 'manager', 'admin'];

export function Admin({ perms, session }) {
  return html`<div class="admin">
    ${perms.has('manage_users') && html`<${Users} me=${session.user} />`}
    <${Queues} />
    ${perms.has('manage_sources') && html`<${Sources} />`}
    ${perms.has('manage_rules') && html`<${Macros} />`}
    ${perms.has('manage_rules') && html`<${Rules} />`}
    ${perms.has('read_audit') && html`<${Audit} />`}
  </div>`;
}

// useOptional loads an endpoint that may not exist yet: null means 404.
function useOptional(path, tick = 0) {
  const [state, setState] = useState({ data: undefined, error: null });
  useEffect(() => {
    get(path).then((data) => setState({ data, error: null }),
      (error) => setState({ data: missing(error) ? null : undefined, error: missing(error) ? null : error }));
  }, [path, tick]);
  return state;
}

function Users({ me }) {
  const [tick, setTick] = useState(0);
  const { data, error } = useOptional('/users', tick);
  const [form, setForm] = useState({ name: '', role: 'agent', password: '' });
  const [formError, setFormError] = useState(null);
  const [done, setDone] = useState('');
  const create = async (e) => {
    e.preventDefault();
    setFormError(null);
    try {
      await post('/users', form);
      setDone(t('admin.created', { name: form.name }));
      setForm({ name: '', role: 'agent', password: '' });
      setTick(tick + 1);
    } catch (err) { setFormError(err); }
  };
  const toggle = async (u) => {
    try {
      await api('PATCH', '/users/' + encodeURIComponent(u.name), { disabled: !u.disabled });
      setTick(tick + 1);
    } catch (err) { setFormError(err); }
  };
  return html`<section class="card" id="users">
    <h2>${t('admin.users')}</h2>
    <${ErrorNote} error=${error} />
    ${data === null ? html`<p class="muted">${t('admin.usersLater')}</p>` : html`
      <table class="table"><thead><tr><th scope="col">${t('admin.name')}</th><th scope="col">${t('admin.role')}</th><th scope="col">${t('admin.since')}</th><th scope="col">${t('admin.state')}</th><th></th></tr></thead>
        <tbody>${(data?.users || []).map((u) => html`<tr data-user=${u.name}>
          <th scope="row">${u.name}</th><td>${t('role.' + u.role)}</td><td>${u.created_at ? dateTime(u.created_at) : ''}</td>
          <td>${u.disabled ? html`<span class="badge off">${t('admin.disabled')}</span>` : html`<span class="badge st-open">${t('admin.active')}</span>`}</td>
          <td>${u.name !== me && html`<button class="btn small" onClick=${() => toggle(u)}>${u.disabled ? t('admin.enable') : t('admin.disable')}</button>`}</td></tr>`)}</tbody></table>
      <form class="inline-form" onSubmit=${create} aria-label=${t('admin.newUser')}>
        <h3>${t('admin.newUser')}</h3>
        <label><span>${t('admin.name')}</span><input id="new-user" required value=${form.name} onInput=${(e) => setForm({ ...form, name: e.target.value })} autocomplete="off" /></label>
        <label><span>${t('admin.role')}</span><select id="new-role" value=${form.role} onChange=${(e) => setForm({ ...form, role: e.target.value })}>
          ${ROLES.map((r) => html`<option value=${r}>${t('role.' + r)}</option>`)}</select></label>
        <label><span>${t('login.password')}</span><input id="new-password" type="password" required autocomplete="new-password" value=${form.password} onInput=${(e) => setForm({ ...form, password: e.target.value })} /></label>
        <button class="btn primary" type="submit">${t('admin.create')}</button>
        <${ErrorNote} error=${formError} />
        ${done && html`<p class="ok" role="status">${done}</p>`}
      </form>`}
  </section>`;
}

function Queues() {
  const { data, error } = useOptional('/queues');
  return html`<section class="card" id="admin-queues">
    <h2>${t('console.queues')}</h2>
    <${ErrorNote} error=${error} />
    ${data && html`<table class="table"><thead><tr><th scope="col">${t('admin.name')}</th><th scope="col">${t('status.open')}</th><th scope="col">${t('status.assigned')}</th><th scope="col">${t('status.pending')}</th><th scope="col">${t('admin.oldest')}</th></tr></thead>
      <tbody>${data.map((q) => html`<tr><th scope="row">${q.name}</th><td>${num(q.open)}</td><td>${num(q.assigned ?? 0)}</td><td>${num(q.pending ?? 0)}</td><td>${q.open ? duration(q.oldest_wait_seconds) : '–'}</td></tr>`)}</tbody></table>`}
  </section>`;
}

// Rules shows the rules in force and their versions, and lets an
// administrator edit them: validate, dry-run over past mentions, save (a new
// version, in force at once) or roll back.
function Rules() {
  const [tick, setTick] = useState(0);
  const [current, setCurrent] = useState(undefined); // null: none saved
  const [versions, setVersions] = useState([]);
  const [yaml, setYaml] = useState('');
  const [comment, setComment] = useState('');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    get('/rules').then((rv) => { setCurrent(rv); setYaml(rv.yaml || ''); },
      (e) => { if (missing(e)) setCurrent(null); else setError(e); });
    get('/rules/versions').then((r) => setVersions(r.versions || []), () => setVersions([]));
  }, [tick]);
  const run = async (kind) => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      if (kind === 'validate') setResult({ kind, data: await post('/rules/validate', { yaml }) });
      else if (kind === 'dry') setResult({ kind, data: await post('/rules/dry-run', { yaml, last: 500 }) });
      else if (kind === 'save') {
        const rv = await api('PUT', '/rules', { yaml, comment });
        setResult({ kind, data: rv });
        setComment('');
        setTick(tick + 1);
      }
    } catch (e) { setError(e); }
    setBusy(false);
  };
  const rollback = async (v) => {
    try {
      await post('/rules/rollback', { version: v });
      setResult({ kind: 'save', data: { version: v } });
      setTick(tick + 1);
    } catch (e) { setError(e); }
  };
  if (current === undefined && !error) return html`<section class="card" id="admin-rules"><h2>${t('admin.rules')}</h2><p class="muted">${t('app.loading')}</p></section>`;
  return html`<section class="card rules-card" id="admin-rules">
    <h2>${t('admin.rules')}</h2>
    <p class="muted small">${current ? t('admin.rulesVersion', { v: current.version, author: current.author, when: dateTime(current.created_at) }) : t('admin.rulesNone')}</p>
    <label for="rules-yaml" class="sr-only">${t('admin.rulesYaml')}</label>
    <textarea id="rules-yaml" class="code" rows="14" spellcheck="false" value=${yaml} onInput=${(e) => setYaml(e.target.value)}></textarea>
    <div class="inline-form tight">
      <label class="grow"><span>${t('admin.comment')}</span><input id="rules-comment" value=${comment} onInput=${(e) => setComment(e.target.value)} /></label>
      <button class="btn" id="rules-validate" onClick=${() => run('validate')} disabled=${busy || !yaml.trim()}>${t('admin.validate')}</button>
      <button class="btn" id="rules-dry" onClick=${() => run('dry')} disabled=${busy || !yaml.trim()}>${t('admin.dryRun')}</button>
      <button class="btn primary" id="rules-save" onClick=${() => run('save')} disabled=${busy || !yaml.trim()}>${t('admin.save')}</button>
    </div>
    <${ErrorNote} error=${error} />
    ${result?.kind === 'validate' && html`<p class="ok" role="status">${t('admin.valid', { n: result.data.rules, queues: (result.data.queues || []).join(', ') })}</p>`}
    ${result?.kind === 'save' && html`<p class="ok" role="status">${t('admin.saved', { v: result.data.version })}</p>`}
    ${result?.kind === 'dry' && html`<${DryRun} d=${result.data} />`}
    ${versions.length > 0 && html`<h3>${t('admin.versions')}</h3>
      <table class="table"><tbody>${versions.slice(0, 10).map((v) => html`<tr>
        <th scope="row">v${v.version}</th><td>${v.author}</td><td class="muted">${v.comment}</td><td class="muted">${dateTime(v.created_at)}</td>
        <td>${current && v.version !== current.version && html`<button class="btn small" onClick=${() => rollback(v.version)}>${t('admin.rollback')}</button>`}</td></tr>`)}</tbody></table>`}
  </section>`;
}

function DryRun({ d }) {
  const queues = Object.entries(d.queues || {}).sort(([a], [b]) => a.localeCompare(b));
  return html`<div class="dry" id="dry-run" role="status">
    <p>${t('admin.dryResult', { n: num(d.evaluated), c: num(d.changed) })}</p>
    ${queues.length > 0 && html`<table class="table"><thead><tr><th scope="col">${t('filter.queue')}</th><th scope="col">${t('admin.before')}</th><th scope="col">${t('admin.after')}</th></tr></thead>
      <tbody>${queues.map(([q, m]) => html`<tr><th scope="row">${q}</th><td>${num(m.before)}</td><td class=${m.after !== m.before ? 'changed' : ''}>${num(m.after)}</td></tr>`)}</tbody></table>`}
    ${(d.examples || []).length > 0 && html`<ul class="examples">${d.examples.slice(0, 5).map((x) => html`<li><span class="muted">${x.before.queue || '–'} → <strong>${x.after.queue || '–'}</strong></span> ${x.text}</li>`)}</ul>`}
  </div>`;
}

const EMPTY_MACRO = { name: '', title: '', lang: '', queue: '', text: '', tags: '', resolve: false };

// Macros manages the canned replies agents pick in the console; their text
// may use {{author.name}}, {{author.handle}}, {{ticket.id}}, {{agent}} and
// {{queue}}.
function Macros() {
  const [tick, setTick] = useState(0);
  const [list, setList] = useState(null);
  const [form, setForm] = useState(EMPTY_MACRO);
  const [error, setError] = useState(null);
  const [done, setDone] = useState('');
  useEffect(() => { get('/macros').then((r) => setList(r.macros || []), (e) => setError(e)); }, [tick]);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const { name, ...rest } = form;
      await api('PUT', '/macros/' + encodeURIComponent(name), { ...rest, tags: form.tags.split(',').map((x) => x.trim()).filter(Boolean) });
      setDone(t('admin.macroSaved', { name }));
      setForm(EMPTY_MACRO);
      setTick(tick + 1);
    } catch (err) { setError(err); }
  };
  const remove = async (name) => {
    try { await api('DELETE', '/macros/' + encodeURIComponent(name)); setTick(tick + 1); } catch (err) { setError(err); }
  };
  return html`<section class="card" id="admin-macros">
    <h2>${t('admin.macros')}</h2>
    ${list && (list.length ? html`<table class="table"><tbody>${list.map((m) => html`<tr data-macro=${m.name}>
      <th scope="row">${m.title || m.name}</th><td class="muted">${[m.lang && m.lang.toUpperCase(), m.queue, ...(m.tags || []), m.resolve && t('ticket.resolve')].filter(Boolean).join(' · ')}</td>
      <td class="nowrap"><button class="btn small" onClick=${() => setForm({ ...EMPTY_MACRO, ...m, lang: m.lang || '', queue: m.queue || '', tags: (m.tags || []).join(', ') })}>${t('admin.edit')}</button>
        <button class="btn small" onClick=${() => remove(m.name)}>${t('admin.delete')}</button></td></tr>`)}</tbody></table>`
      : html`<p class="muted">${t('admin.noMacros')}</p>`)}
    <form class="inline-form" onSubmit=${save} aria-label=${t('admin.newMacro')}>
      <h3>${t('admin.newMacro')}</h3>
      <label><span>${t('admin.name')}</span><input id="macro-name" required pattern="[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}" value=${form.name} onInput=${set('name')} /></label>
      <label class="grow"><span>${t('admin.title')}</span><input id="macro-title" value=${form.title} onInput=${set('title')} /></label>
      <label><span>${t('filter.lang')}</span><select value=${form.lang} onChange=${set('lang')}><option value="">${t('filter.all')}</option><option value="en">EN</option><option value="fr">FR</option></select></label>
      <label><span>${t('filter.queue')}</span><input value=${form.queue} onInput=${set('queue')} size="10" /></label>
      <label class="full"><span>${t('admin.macroText')}</span><textarea id="macro-text" required rows="3" value=${form.text} onInput=${set('text')}></textarea></label>
      <label class="grow"><span>${t('admin.tags')}</span><input value=${form.tags} onInput=${set('tags')} /></label>
      <label class="switch"><input type="checkbox" checked=${form.resolve} onChange=${set('resolve')} /> ${t('admin.macroResolves')}</label>
      <button class="btn primary" type="submit">${t('admin.saveMacro')}</button>
      <${ErrorNote} error=${error} />
      ${done && html`<p class="ok" role="status">${done}</p>`}
    </form>
  </section>`;
}

// SOURCES_REFRESH is how often the sources' status is read again.
const SOURCES_REFRESH = 10000;

// Sources lists the sources of the sources file with their live status,
// and starts or stops each.
function Sources() {
  const [list, setList] = useState(undefined); // null: no sources API here
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState('');
  const [at, setAt] = useState(0);
  const load = () => get('/sources').then((d) => {
    setList(Array.isArray(d) ? d : d?.sources || []);
    setAt(Date.now());
    setError(null);
  }, (e) => { if (missing(e)) setList(null); else setError(e); });
  useEffect(() => {
    load();
    const id = setInterval(load, SOURCES_REFRESH);
    return () => clearInterval(id);
  }, []);
  const toggle = async (s) => {
    setBusy(s.name);
    try {
      const st = await post(`/sources/${encodeURIComponent(s.name)}/${s.enabled ? 'disable' : 'enable'}`);
      setList((prev) => prev.map((x) => (x.name === st.name ? st : x)));
      setError(null);
    } catch (e) { setError(e); }
    setBusy('');
  };
  const state = (s) => {
    if (!s.enabled) return html`<span class="badge off">${t('admin.disabled')}</span>`;
    if (s.connected) return html`<span class="badge src-ok">${t('source.connected')}</span>`;
    if (s.running) return html`<span class="badge src-warn">${t('source.connecting')}</span>`;
    return html`<span class="badge src-bad">${t('source.stopped')}</span>`;
  };
  return html`<section class="card sources-card" id="admin-sources">
    <h2>${t('admin.sources')}</h2>
    <${ErrorNote} error=${error} />
    ${list === null && html`<p class="muted">${t('admin.sourcesLater')}</p>`}
    ${list === undefined && !error && html`<p class="muted">${t('app.loading')}</p>`}
    ${list && list.length === 0 && html`<p class="muted">${t('source.none')}</p>`}
    ${list && list.length > 0 && html`<table class="table" id="sources-table"><thead><tr>
        <th scope="col">${t('admin.name')}</th><th scope="col">${t('admin.state')}</th><th scope="col">${t('source.lag')}</th>
        <th scope="col">${t('source.rate')}</th><th scope="col">${t('source.total')}</th><th scope="col">${t('source.lastError')}</th><th></th></tr></thead>
      <tbody>${list.map((s) => html`<tr data-source=${s.name} data-enabled=${String(s.enabled)} data-connected=${String(s.connected)}>
        <th scope="row">${s.name}<div class="muted small">${s.type}${s.kind && s.kind !== s.type ? ' · ' + s.kind : ''}${s.hook ? html` · <code>${s.hook}</code>` : ''}</div></th>
        <td>${state(s)}${s.restarts ? html`<div class="muted small">${t('source.restarts', { n: num(s.restarts) })}</div>` : null}</td>
        <td class="num">${s.enabled && s.lag_seconds ? duration(s.lag_seconds) : '–'}</td>
        <td class="num">${num(s.items_per_minute || 0)}</td>
        <td class="num">${num(s.items_total || 0)}${s.last_item_at ? html`<div class="muted small">${t('source.lastItem', { when: ago(s.last_item_at) })}</div>` : null}</td>
        <td class="src-error">${s.last_error ? html`<span class="error-text">${s.last_error}</span><div class="muted small">${s.last_error_at ? dateTime(s.last_error_at) : ''}</div>` : html`<span class="muted">–</span>`}</td>
        <td><button class="btn small" data-toggle=${s.name} onClick=${() => toggle(s)} disabled=${busy === s.name}>${s.enabled ? t('admin.disable') : t('admin.enable')}</button></td>
      </tr>`)}</tbody></table>
      <p class="muted small">${t('source.refreshed', { when: time(at) })}</p>`}
  </section>`;
}

// AUDIT_PAGE is how many audit entries one page shows.
const AUDIT_PAGE = 50;

// Audit shows the audit log, newest first, filtered by actor and action,
// a page at a time.
function Audit() {
  const [filter, setFilter] = useState({ actor: '', action: '' });
  const [applied, setApplied] = useState({ actor: '', action: '' });
  const [entries, setEntries] = useState(undefined);
  const [next, setNext] = useState(0);
  const [error, setError] = useState(null);
  const load = (before) => {
    const q = new URLSearchParams({ limit: String(AUDIT_PAGE) });
    if (applied.actor) q.set('actor', applied.actor);
    if (applied.action) q.set('action', applied.action);
    if (before) q.set('before', String(before));
    get('/audit?' + q.toString()).then((d) => {
      setEntries((prev) => (before ? [...(prev || []), ...d.entries] : d.entries));
      setNext(d.next_before || 0);
      setError(null);
    }, setError);
  };
  useEffect(() => { load(0); }, [applied]);
  const submit = (e) => { e.preventDefault(); setApplied({ ...filter }); };
  return html`<section class="card" id="admin-audit">
    <h2>${t('admin.audit')}</h2>
    <form class="inline-form" onSubmit=${submit} aria-label=${t('admin.auditFilter')}>
      <label><span>${t('admin.auditActor')}</span><input id="audit-actor" value=${filter.actor} onInput=${(e) => setFilter({ ...filter, actor: e.target.value })} autocomplete="off" /></label>
      <label><span>${t('admin.auditAction')}</span><input id="audit-action" placeholder="user." value=${filter.action} onInput=${(e) => setFilter({ ...filter, action: e.target.value })} autocomplete="off" /></label>
      <button class="btn" type="submit">${t('admin.auditFilter')}</button>
    </form>
    <${ErrorNote} error=${error} />
    ${entries === undefined && !error && html`<p class="muted">${t('app.loading')}</p>`}
    ${entries && entries.length === 0 && html`<p class="muted">${t('admin.auditNone')}</p>`}
    ${entries && entries.length > 0 && html`<table class="table" id="audit-table"><thead><tr>
        <th scope="col">${t('admin.auditWhen')}</th><th scope="col">${t('admin.auditActor')}</th><th scope="col">${t('admin.auditAction')}</th>
        <th scope="col">${t('admin.auditTarget')}</th><th scope="col">${t('admin.auditFrom')}</th></tr></thead>
      <tbody>${entries.map((e) => html`<tr data-seq=${e.seq} data-action=${e.action}>
        <td>${dateTime(e.at)}</td>
        <td>${e.actor}${e.actor_role ? html`<div class="muted small">${t('role.' + e.actor_role)}</div>` : null}</td>
        <td><code>${e.action}</code></td>
        <td>${e.target || '–'}</td>
        <td class="muted small">${e.remote_ip || '–'}</td></tr>`)}</tbody></table>
      ${next > 0 && html`<button class="btn small" id="audit-more" onClick=${() => load(next)}>${t('admin.auditMore')}</button>`}`}
  </section>`;
}
