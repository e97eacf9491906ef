// One ticket: the conversation, who wrote it, why it is here, its SLA
// clock, who else is on it, and what an agent does with it.
import { html, useState, useEffect, useRef } from './html.js';
import { t, lang, duration, dateTime, ago, num } from './i18n.js';
import { get, post, qs, missing } from './api.js';
import { PriorityBadge, StatusBadge, SentimentBadge, IntentBadge, LangBadge, SourceTag, ErrorNote, authorLabel } from './common.js';
import { CustomerProfile } from './profile.js';

// First-response targets per priority, in seconds. These are the console's
// own placeholder until the SLA policies (business hours, per queue) land
// with the desk's SLA clocks; the countdown says so in its tooltip.
export const SLA_TARGETS = { urgent: 15 * 60, high: 60 * 60, normal: 4 * 3600, low: 24 * 3600 };

// Canned replies, by language of the customer; {name} is the author's name.
const CANNED = {
  en: [
    ['canned.thanks', 'Thank you for your message, {name}. We are looking into it and will get back to you shortly.'],
    ['canned.dm', 'Hi {name}, sorry about this. Could you send us a direct message with your booking reference so we can help?'],
    ['canned.refund', 'Hi {name}, your refund request is registered; you will receive a confirmation by email within 48 hours.'],
    ['canned.solved', 'Glad we could help, {name}! Have a great trip.'],
  ],
  fr: [
    ['canned.thanks', 'Merci pour votre message, {name}. Nous regardons cela et revenons vers vous très vite.'],
    ['canned.dm', 'Bonjour {name}, désolés pour ce souci. Pouvez-vous nous envoyer un message privé avec votre référence de réservation ?'],
    ['canned.refund', 'Bonjour {name}, votre demande de remboursement est enregistrée ; vous recevrez une confirmation par e-mail sous 48 heures.'],
    ['canned.solved', 'Ravis d\'avoir pu vous aider, {name} ! Bon voyage.'],
  ],
};

export function TicketView({ id, session, perms, live, now }) {
  const [tk, setTk] = useState(null);
  const [error, setError] = useState(null);
  const [viewers, setViewers] = useState({});
  const [busy, setBusy] = useState('');
  const [mode, setMode] = useState(perms.has('reply') ? 'reply' : 'note');
  const [text, setText] = useState('');
  const [actionError, setActionError] = useState(null);
  const [history, setHistory] = useState(null);
  const [profile, setProfile] = useState(undefined); // undefined: loading; null: no offers here; an Error
  const [macros, setMacros] = useState([]);
  const [macro, setMacro] = useState(null); // {name, text, tags, resolve} picked
  const [confirm, setConfirm] = useState(null); // the owner, when a reply needs confirming
  const input = useRef(null);
  const typing = useRef(0);
  const me = session.user;

  const load = async () => {
    try {
      setTk(await get('/tickets/' + id));
      setError(null);
    } catch (e) { setError(e); }
  };

  useEffect(() => {
    load();
    live.setPresence(id, 'viewing');
    let timer = 0;
    const onTicket = (d) => {
      if (d.ticket.id !== id) return;
      clearTimeout(timer);
      timer = setTimeout(load, 100);
    };
    const onPresence = (d) => { if (d.ticket_id === id) setViewers(d.viewers || {}); };
    const offs = [live.on('ticket.updated', onTicket), live.on('presence', onPresence), live.on('resync', load)];
    return () => {
      offs.forEach((o) => o());
      clearTimeout(timer);
      clearTimeout(typing.current);
      live.setPresence(id, 'left');
    };
  }, [id]);

  // The server's macros for this queue; the built-in canned replies stand
  // in when none are configured.
  useEffect(() => {
    if (!tk) return;
    get('/macros' + qs({ queue: tk.queue }))
      .then((r) => setMacros((r.macros || []).filter((m) => !m.lang || !tk.lang || m.lang === tk.lang)))
      .catch(() => setMacros([]));
  }, [tk?.id, tk?.queue]);

  // The author's other tickets: the desk filters by author when it knows
  // how (author=<source>/<id>); an older desk answers 400 or ignores the
  // parameter, so the answer is filtered here too and only this author's
  // tickets ever show.
  useEffect(() => {
    if (!tk) return;
    const a = tk.author;
    const mine = (p) => p.tickets.filter((x) => x.id !== tk.id && x.source === tk.source && x.author.id === a.id);
    get('/tickets' + qs({ author: tk.source + '/' + a.id, limit: 100 }))
      .catch((e) => {
        if (e.status !== 400) throw e;
        return get('/tickets' + qs({ limit: 100 }));
      })
      .then((p) => setHistory(mine(p)))
      .catch(() => setHistory([]));
  }, [tk?.id]);

  // The author's consent to offers and the offers sent to them; a server
  // without the offer engine answers 404 and the panel stays hidden.
  useEffect(() => {
    if (!tk) return;
    setProfile(undefined);
    get(`/authors/${encodeURIComponent(tk.source)}/${encodeURIComponent(tk.author.id)}/offers`)
      .then(setProfile, (e) => setProfile(missing(e) ? null : e));
  }, [tk?.id]);

  const act = async (name, f) => {
    setBusy(name);
    setActionError(null);
    try {
      const res = await f();
      if (res && res.ticket) setTk((prev) => ({ ...prev, ...res.ticket, messages: prev.messages }));
      await load();
      return true;
    } catch (e) {
      setActionError(e);
      return false;
    } finally {
      setBusy('');
    }
  };
  const claim = () => act('claim', () => post(`/tickets/${id}/assign`, { agent: '' }));
  const resolve = () => act('resolve', () => post(`/tickets/${id}/resolve`));
  // send posts the reply or the note. A macro's text sent unchanged goes
  // through the macro, so that its tags and resolution apply too. A reply
  // to a ticket someone else owns asks for confirmation first.
  const send = async (confirmed = false) => {
    if (!text.trim()) return;
    const path = mode === 'reply' ? 'reply' : 'note';
    const viaMacro = mode === 'reply' && macro && macro.text === text;
    const body = viaMacro ? { name: macro.name } : { text };
    if (mode === 'reply' && confirmed) body.confirm = true;
    setConfirm(null);
    setBusy(path);
    setActionError(null);
    try {
      await post(`/tickets/${id}/${viaMacro ? 'macro' : path}`, body);
      setText('');
      setMacro(null);
      live.setPresence(id, 'viewing');
      await load();
    } catch (e) {
      if (e.status === 409 && mode === 'reply' && !confirmed && tk.assignee && tk.assignee !== me) setConfirm(tk.assignee);
      else setActionError(e);
    } finally {
      setBusy('');
    }
  };
  const pickMacro = async (name) => {
    try {
      const p = await get(`/tickets/${id}/macros/${encodeURIComponent(name)}/preview`);
      setMacro({ name, text: p.text, tags: p.tags || [], resolve: !!p.resolve });
      setText(p.text);
    } catch (e) { setActionError(e); }
  };
  const onType = (e) => {
    setText(e.target.value);
    if (!typing.current) live.setPresence(id, 'typing');
    clearTimeout(typing.current);
    typing.current = setTimeout(() => { typing.current = 0; live.setPresence(id, 'viewing'); }, 3000);
  };

  // Shortcuts on the open ticket.
  useEffect(() => {
    const onKey = (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const tag = (e.target.tagName || '').toLowerCase();
      if (tag === 'input' || tag === 'textarea' || tag === 'select') return;
      if (e.key === 'c' && perms.has('assign')) { claim(); e.preventDefault(); }
      else if (e.key === 'e' && perms.has('resolve')) { resolve(); e.preventDefault(); }
      else if (e.key === 'r' && perms.has('reply')) { setMode('reply'); setTimeout(() => input.current?.focus()); e.preventDefault(); }
      else if (e.key === 'n' && perms.has('note')) { setMode('note'); setTimeout(() => input.current?.focus()); e.preventDefault(); }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [id]);

  if (error) return html`<div class="pad"><${ErrorNote} error=${error} /></div>`;
  if (!tk) return html`<p class="muted pad">${t('app.loading')}</p>`;

  const others = Object.entries(viewers).filter(([u]) => u !== me);
  const first = tk.messages?.find((m) => m.direction === 'in');
  const enr = first?.enrichment || {};
  const canned = CANNED[tk.lang === 'fr' ? 'fr' : tk.lang === 'en' ? 'en' : lang()] || CANNED.en;
  const resolved = tk.status === 'resolved';
  return html`
    <article class="ticket" id="ticket" data-ticket=${tk.id} data-status=${tk.status}>
      <header class="ticket-head">
        <div>
          <h2>${authorLabel(tk.author)} <span class="muted">#${tk.id}</span></h2>
          <div class="badges">
            <${PriorityBadge} value=${tk.priority} />
            <${StatusBadge} value=${tk.status} />
            <${SentimentBadge} value=${tk.sentiment} />
            <${IntentBadge} value=${tk.intent} />
            <${LangBadge} value=${tk.lang} />
            <${SourceTag} value=${tk.source} />
            <span class="badge queue">${tk.queue}</span>
            ${tk.tags?.map((g) => html`<span class="badge tag">${g}</span>`)}
          </div>
        </div>
        <${SLA} tk=${tk} now=${now} />
      </header>
      <div class="presence" aria-live="polite" id="presence">
        ${others.length ? others.map(([u, s]) => html`<span class=${'viewer ' + s}>${t(s === 'typing' ? 'presence.typing' : 'presence.viewing', { user: u })}</span>`) : null}
      </div>
      <div class="actions">
        ${perms.has('assign') && !resolved && tk.assignee !== me && html`
          <button class="btn" id="claim" onClick=${claim} disabled=${!!busy}>${tk.assignee ? t('ticket.takeOver', { user: tk.assignee }) : t('ticket.claim')} <kbd>c</kbd></button>`}
        ${tk.assignee && html`<span class="muted">${t('ticket.assignedTo', { user: tk.assignee === me ? t('ticket.you') : tk.assignee })}</span>`}
        ${perms.has('resolve') && !resolved && html`<button class="btn" id="resolve" onClick=${resolve} disabled=${!!busy}>${t('ticket.resolve')} <kbd>e</kbd></button>`}
        <${ErrorNote} error=${actionError} />
      </div>
      <div class="ticket-body">
        <ol class="conversation" id="conversation" aria-label=${t('ticket.conversation')}>
          ${tk.messages?.map((m) => html`<${Message} key=${m.id} m=${m} />`)}
        </ol>
        <aside class="ticket-side">
          <section>
            <h3>${t('ticket.author')}</h3>
            <p class="author-name">${tk.author.name || tk.author.handle}${tk.author.verified ? html` <span class="badge" title=${t('ticket.verified')}>✓</span>` : ''}</p>
            <p class="muted">${tk.author.handle} · ${tk.source}</p>
            <dl class="facts">
              ${tk.author.followers != null && html`<div><dt>${t('ticket.followers')}</dt><dd>${num(tk.author.followers || 0)}</dd></div>`}
              ${enr.influence != null && html`<div><dt>${t('ticket.influence')}</dt><dd>${enr.influence}/100</dd></div>`}
            </dl>
            <h4>${t('ticket.history')}</h4>
            ${history === null ? html`<p class="muted">${t('app.loading')}</p>`
              : history.length ? html`<ul class="history">${history.map((h) => html`<li><a href=${'#/console/' + h.id}>#${h.id}</a> <${StatusBadge} value=${h.status} /> <span class="muted">${h.queue} · ${ago(h.created_at, now)}</span></li>`)}</ul>`
                : html`<p class="muted">${t('ticket.noHistory')}</p>`}
          </section>
          <${CustomerProfile} source=${tk.source} authorID=${tk.author.id} version=${tk.updated_at + ':' + (tk.messages?.length || 0)} canLink=${perms.has('note')} />
          ${profile !== null && html`<${AuthorOffers} profile=${profile} />`}
          <section class="routing" id="routing">
            <h3>${t('ticket.why')}</h3>
            <p>${tk.routing?.rule ? t('ticket.routedBy', { rule: tk.routing.rule, queue: tk.queue }) : t('ticket.defaultQueue', { queue: tk.queue })}</p>
            <ol class="trace">
              ${(tk.routing?.trace || []).map((s) => html`<li class=${s.matched ? 'step-hit' : 'step-miss'}>
                <span class="mark" aria-label=${s.matched ? t('ticket.matched') : t('ticket.notMatched')}>${s.matched ? '✓' : '·'}</span>
                <strong>${s.rule}</strong> <span class="muted">${s.why}</span></li>`)}
            </ol>
            ${(enr.sentiment_terms?.length || enr.intent_terms?.length) ? html`<p class="muted small">${t('ticket.terms', { terms: [...new Set([...(enr.sentiment_terms || []), ...(enr.intent_terms || [])])].join(', ') })}</p>` : null}
          </section>
        </aside>
      </div>
      ${(perms.has('reply') || perms.has('note')) && html`
        <div class=${'composer ' + mode}>
          <div class="tabs small" role="tablist">
            ${perms.has('reply') && html`<button role="tab" id="mode-reply" aria-selected=${mode === 'reply'} class=${mode === 'reply' ? 'active' : ''} onClick=${() => setMode('reply')}>${t('ticket.reply')} <kbd>r</kbd></button>`}
            ${perms.has('note') && html`<button role="tab" id="mode-note" aria-selected=${mode === 'note'} class=${mode === 'note' ? 'active' : ''} onClick=${() => setMode('note')}>${t('ticket.note')} <kbd>n</kbd></button>`}
            ${mode === 'reply' && html`<label class="canned"><span class="sr-only">${t('ticket.canned')}</span>
              <select id="canned" onChange=${(e) => {
                const v = e.target.value;
                e.target.value = '';
                if (v.startsWith('m:')) { pickMacro(v.slice(2)); return; }
                const c = canned[v];
                if (c) { setMacro(null); setText(c[1].replace('{name}', tk.author.name || tk.author.handle || '')); }
              }}>
                <option value="">${t('ticket.canned')}…</option>
                ${macros.length ? macros.map((m) => html`<option value=${'m:' + m.name}>${m.title || m.name}</option>`)
                  : canned.map(([k], i) => html`<option value=${i}>${t(k)}</option>`)}
              </select></label>`}
          </div>
          <label for="composer-text" class="sr-only">${mode === 'reply' ? t('ticket.replyLabel', { source: tk.source }) : t('ticket.noteLabel')}</label>
          <textarea id="composer-text" ref=${input} rows="3" value=${text} onInput=${onType}
            placeholder=${mode === 'reply' ? t('ticket.replyLabel', { source: tk.source }) : t('ticket.noteLabel')}
            onKeyDown=${(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); } if (e.key === 'Escape') e.target.blur(); }}></textarea>
          ${confirm && html`<div class="confirm" role="alertdialog" aria-labelledby="confirm-text" id="confirm-reply">
            <span id="confirm-text">${t('ticket.ownedBy', { user: confirm })}</span>
            <button class="btn primary small" id="confirm-send" onClick=${() => send(true)}>${t('ticket.replyAnyway')}</button>
            <button class="btn small" onClick=${() => setConfirm(null)}>${t('ticket.cancel')}</button>
          </div>`}
          <div class="composer-foot">
            <span class="muted small">${mode === 'reply' && macro && macro.text === text && (macro.tags.length || macro.resolve)
              ? t('ticket.macroActs', { tags: macro.tags.join(', ') || '–', resolve: macro.resolve ? t('ticket.andResolves') : '' })
              : mode === 'reply' ? t('ticket.replyHint') : t('ticket.noteHint')}</span>
            <button class="btn primary" id="send" onClick=${() => send()} disabled=${!!busy || !text.trim()}>${mode === 'reply' ? t('ticket.send') : t('ticket.addNote')}</button>
          </div>
        </div>`}
    </article>`;
}

function Message({ m }) {
  // A message from no person: a rule's acknowledgement, a CSAT survey.
  const who = m.direction === 'in' ? authorLabel(m.author) : m.agent || t('ticket.automatic');
  const e = m.enrichment;
  return html`<li class=${'msg ' + m.direction} data-direction=${m.direction}>
    <div class="msg-head">
      <strong>${who}</strong>
      ${m.direction === 'note' && html`<span class="badge note">${t('ticket.internalNote')}</span>`}
      <span class="muted" title=${m.created_at}>${dateTime(m.created_at)}</span>
      ${m.url && html`<a href=${m.url} target="_blank" rel="noopener noreferrer" class="muted">${t('ticket.original')}</a>`}
    </div>
    <p class="msg-text">${m.text}</p>
    ${m.direction === 'out' && html`<div class=${'delivery d-' + m.delivery}>${t('delivery.' + (m.delivery || 'pending'))}${m.error ? ': ' + m.error : ''}</div>`}
    ${e && html`<div class="msg-badges"><${SentimentBadge} value=${e.sentiment} /><${IntentBadge} value=${e.intent} /><${LangBadge} value=${e.lang} /></div>`}
  </li>`;
}

// SLA shows the desk's SLA clock when the server keeps one (sla_status and
// the due times), and the console's placeholder target otherwise.
function SLA({ tk, now }) {
  if (tk.sla_status === undefined) return html`<${PlaceholderSLA} tk=${tk} now=${now} />`;
  const state = tk.sla_status || 'none';
  // The clock that runs: the first response until there is one, then the
  // resolution.
  const [which, due] = !tk.first_response_at && tk.first_response_due ? ['first', tk.first_response_due]
    : tk.resolution_due ? ['resolution', tk.resolution_due]
      : tk.first_response_due ? ['first', tk.first_response_due] : ['', null];
  const cls = { active: 'ok', at_risk: 'soon', paused: 'paused', hit: 'ok', missed: 'late', none: 'none' }[state] || 'none';
  const label = t('sla.state.' + (cls === 'none' ? 'none' : state));
  const tip = which ? t('sla.dueAt', { clock: t('sla.clock.' + which), when: dateTime(due) }) : label;
  let value = '';
  if (due && (state === 'active' || state === 'at_risk' || state === 'missed')) {
    const left = (new Date(due).getTime() - now) / 1000;
    // Whole seconds: a countdown, not a stopwatch.
    value = left >= 0 ? t('sla.leftFor', { d: duration(Math.ceil(left)) }) : t('sla.overdueBy', { d: duration(Math.floor(-left)) });
  } else if (state === 'paused') {
    value = t('sla.pausedValue');
  } else if (state === 'hit') {
    value = '✓';
  }
  return html`<div class=${'sla ' + cls} id="sla" data-sla=${state} title=${tip} role="timer">
    <span class="sla-label">${label}${which ? ' · ' + t('sla.clock.' + which) : ''}</span>
    ${value && html`<span class="sla-value">${value}</span>`}</div>`;
}

function PlaceholderSLA({ tk, now }) {
  const target = SLA_TARGETS[tk.priority] ?? SLA_TARGETS.normal;
  const created = new Date(tk.created_at).getTime();
  const tip = t('sla.placeholder', { target: duration(target) });
  if (tk.first_response_at) {
    const took = (new Date(tk.first_response_at).getTime() - created) / 1000;
    return html`<div class=${'sla ' + (took <= target ? 'ok' : 'late')} title=${tip}>
      <span class="sla-label">${t('sla.responded')}</span><span class="sla-value">${duration(took)}</span></div>`;
  }
  if (tk.status === 'resolved') return null;
  const left = target - (now - created) / 1000;
  const cls = left < 0 ? 'late' : left < target * 0.25 ? 'soon' : 'ok';
  return html`<div class=${'sla ' + cls} id="sla" title=${tip} role="timer">
    <span class="sla-label">${left < 0 ? t('sla.overdue') : t('sla.left')}</span>
    <span class="sla-value">${duration(Math.abs(left))}</span></div>`;
}

// AuthorOffers is the author's consent to geolocated offers and the offers
// they were sent.
function AuthorOffers({ profile }) {
  if (profile === undefined) return html`<section id="author-offers"><h3>${t('ticket.offers')}</h3><p class="muted">${t('app.loading')}</p></section>`;
  if (profile instanceof Error) return html`<section id="author-offers"><h3>${t('ticket.offers')}</h3><${ErrorNote} error=${profile} /></section>`;
  const c = profile.consent;
  const skipped = Object.entries(profile.skipped || {}).sort((a, b) => b[1] - a[1]);
  let consent;
  if (!c) consent = html`<p><span class="badge off" data-consent="none">${t('consent.none')}</span></p>`;
  else if (c.granted) {
    consent = html`<p><span class="badge st-open" data-consent="granted">${t('consent.granted')}</span>${' '}
      <span class="muted small">${t('consent.grantedDetail', { when: c.granted_at ? dateTime(c.granted_at) : '–', channel: c.channel || '–' })}</span></p>
      ${c.tags?.length ? html`<div class="badges">${c.tags.map((g) => html`<span class="badge tag">${g}</span>`)}</div>` : null}`;
  } else {
    consent = html`<p><span class="badge p-urgent" data-consent="withdrawn">${t('consent.withdrawn')}</span>
      ${c.withdrawn_at && html`<span class="muted small"> ${dateTime(c.withdrawn_at)}</span>`}</p>`;
  }
  return html`<section id="author-offers">
    <h3>${t('ticket.offers')}</h3>
    ${consent}
    ${profile.offers?.length ? html`<ul class="history">${profile.offers.slice(0, 5).map((d) => html`<li title=${d.text}>
      <strong>${d.store}</strong> <span class="muted">${ago(d.at)}</span>
      ${d.redeemed_at ? html`<span class="badge redeemed">${t('offers.redeemed')}</span>` : html`<span class=${'badge od-' + d.delivery}>${t('odelivery.' + d.delivery)}</span>`}</li>`)}</ul>`
      : html`<p class="muted small">${t('ticket.noOffers')}</p>`}
    ${skipped.length ? html`<p class="muted small">${t('ticket.offersSkipped', { list: skipped.map(([r, n]) => `${t('reason.' + r)} ×${n}`).join(', ') })}</p>` : null}
  </section>`;
}
