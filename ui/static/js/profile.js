// The customer's profile beside a ticket (the CRM): one person across
// networks — identities linked by an agent, links Vigie suggests, the
// brand's CRM id, what the person shared with consent, influence,
// sentiment history, satisfaction and one timeline of everything they did
// on every linked identity.
import { html, useState, useEffect, useRef } from './html.js';
import { t, dateTime, ago, num, pct } from './i18n.js';
import { api, get, post, missing } from './api.js';
import { SentimentBadge, StatusBadge, SourceTag, ErrorNote } from './common.js';

const enc = encodeURIComponent;

// load reads the profile of the identity (source, authorID), then its
// suggestions and timeline. The profile is always found from the ticket's
// identity, so that after an unlink the panel shows wherever that identity
// now lives.
async function load(source, authorID) {
  const profile = await get(`/profiles/by-identity/${enc(source)}/${enc(authorID)}`);
  const [sugg, tl] = await Promise.all([
    get(`/profiles/${profile.id}/suggestions`),
    get(`/profiles/${profile.id}/timeline?limit=50`),
  ]);
  return { profile, suggestions: sugg.suggestions || [], items: tl.items || [] };
}

// CustomerProfile shows the profile of a ticket's author. version changes
// when the ticket does (a new message): the profile is read again then.
// canLink says whether the user may link and unlink identities.
export function CustomerProfile({ source, authorID, version, canLink }) {
  // undefined: loading; null: the server has no CRM; 'unknown': the CRM
  // has not seen this author yet; an Error; or the loaded data.
  const [data, setData] = useState(undefined);
  const [busy, setBusy] = useState('');
  const [actionError, setActionError] = useState(null);
  // Each load gets a number; an answer that comes back after a newer load
  // started (a link, an unlink, a new message) is dropped, so a stale
  // answer never overwrites a newer state.
  const seq = useRef(0);
  const retry = useRef(0);

  const reload = async () => {
    const n = ++seq.current;
    clearTimeout(retry.current);
    try {
      const d = await load(source, authorID);
      if (n !== seq.current) return;
      setData(d);
    } catch (e) {
      if (n !== seq.current) return;
      if (e.status === 404 && /identity/.test(e.message)) {
        // The CRM follows the desk's events: a brand-new author is there
        // a moment later.
        setData('unknown');
        retry.current = setTimeout(reload, 1000);
      } else setData(missing(e) ? null : e);
    }
  };

  useEffect(() => {
    setData(undefined);
    setActionError(null);
    reload();
    return () => { seq.current++; clearTimeout(retry.current); };
  }, [source, authorID]);
  useEffect(() => { if (data !== undefined) reload(); }, [version]);

  const act = async (name, f) => {
    setBusy(name);
    setActionError(null);
    seq.current++; // what is in flight is stale now
    try {
      await f();
    } catch (e) {
      setActionError(e);
    }
    await reload();
    setBusy('');
  };

  if (data === null) return null;
  const head = html`<h3>${t('profile.title')}</h3>`;
  if (data === undefined) return html`<section id="customer-profile" data-state="loading">${head}<p class="muted">${t('app.loading')}</p></section>`;
  if (data === 'unknown') return html`<section id="customer-profile" data-state="unknown">${head}<p class="muted">${t('profile.unknown')}</p></section>`;
  if (data instanceof Error) return html`<section id="customer-profile" data-state="error">${head}<${ErrorNote} error=${data} /></section>`;

  const { profile: p, suggestions, items } = data;
  const link = (s) => act('link', () => post(`/profiles/${p.id}/identities`, { source: s.identity.source, author_id: s.identity.author_id }));
  const unlink = (i) => act('unlink', () => api('DELETE', `/profiles/${p.id}/identities/${enc(i.source)}/${enc(i.author_id)}`));
  const sat = p.satisfaction || {};
  const sentiment = (p.sentiment || []).slice(0, 14);
  return html`<section id="customer-profile" data-state=${busy ? 'busy' : 'ready'} data-profile=${p.id} data-identities=${p.identities.length}>
    ${head}
    <dl class="facts">
      <div><dt>${t('profile.crmId')}</dt><dd id="profile-crm-id">${p.crm_id || html`<span class="muted">${t('profile.noCrmId')}</span>`}</dd></div>
      <div><dt>${t('ticket.influence')}</dt><dd>${p.influence}/100</dd></div>
      <div><dt>${t('profile.mentions')}</dt><dd>${num(p.mentions)}</dd></div>
      <div><dt>${t('profile.tickets')}</dt><dd>${num(p.tickets)}</dd></div>
      <div><dt>${t('profile.csat')}</dt><dd id="profile-csat">${sat.responses ? t('profile.csatValue', { score: pct(sat.score), n: sat.responses }) : '–'}</dd></div>
      <div><dt>${t('profile.consent')}</dt><dd data-consent=${p.consent.granted ? 'granted' : 'none'}>${p.consent.granted ? t('profile.consentGranted') : t('profile.consentNone')}</dd></div>
    </dl>
    ${p.consent.granted && (p.city || p.interests.length) ? html`<p class="small" id="profile-fields">
      ${p.city && html`<span>${t('profile.city')}: <strong>${p.city}</strong></span> `}
      ${p.interests.length ? html`<span>${t('profile.interests')}: ${p.interests.map((x) => html`<span class="badge tag">${x}</span>`)}</span>` : null}</p>` : null}
    ${sentiment.length ? html`<div class="profile-sentiment" aria-label=${t('profile.sentiment')}>
      <h4>${t('profile.sentiment')}</h4>
      <ol class="history">${sentiment.map((d) => html`<li>${d.day} <${SentimentBadge} value=${d.average} /> <span class="muted">×${d.mentions}</span></li>`)}</ol></div>` : null}
    <h4>${t('profile.identities')}</h4>
    <ul class="history" id="profile-identities">
      ${p.identities.map((i) => html`<li data-identity=${i.source + '/' + i.author_id}>
        <${SourceTag} value=${i.source} /> <strong>${i.handle || i.author_id}</strong>
        ${i.name && html` <span class="muted">${i.name}</span>`}
        ${i.linked_by && html` <span class="muted small">${t('profile.linkedBy', { user: i.linked_by })}</span>`}
        ${canLink && p.identities.length > 1 && html` <button class="btn small" data-unlink=${i.source + '/' + i.author_id} disabled=${!!busy}
          onClick=${() => unlink(i)} aria-label=${t('profile.unlinkLabel', { who: i.handle || i.author_id, source: i.source })}>${t('profile.unlink')}</button>`}
      </li>`)}
    </ul>
    ${suggestions.length ? html`<h4>${t('profile.suggestions')}</h4>
      <ul class="history" id="profile-suggestions">
        ${suggestions.map((s) => html`<li data-suggestion=${s.identity.source + '/' + s.identity.author_id}>
          <${SourceTag} value=${s.identity.source} /> <strong>${s.identity.handle || s.identity.author_id}</strong>
          <span class="muted small">${s.reasons.map((r) => t('profile.reason.' + r)).join(', ')}</span>
          ${canLink && html` <button class="btn small" data-link=${s.identity.source + '/' + s.identity.author_id} disabled=${!!busy}
            onClick=${() => link(s)} aria-label=${t('profile.linkLabel', { who: s.identity.handle || s.identity.author_id, source: s.identity.source })}>${t('profile.link')}</button>`}
        </li>`)}
      </ul>` : null}
    <${ErrorNote} error=${actionError} />
    <h4>${t('profile.timeline')}</h4>
    ${items.length ? html`<ol class="history" id="profile-timeline">${items.map((it) => html`<${Item} it=${it} />`)}</ol>`
      : html`<p class="muted small">${t('profile.noTimeline')}</p>`}
  </section>`;
}

// Item is one line of the timeline.
function Item({ it }) {
  let body;
  switch (it.kind) {
    case 'mention':
      body = html`<span class="tl-text">${it.text}</span> <${SentimentBadge} value=${it.sentiment} />`;
      break;
    case 'ticket':
      body = html`<a href=${'#/console/' + it.ticket_id}>#${it.ticket_id}</a> <${StatusBadge} value=${it.status} /> <span class="muted">${it.queue}</span>`;
      break;
    case 'csat':
      body = html`${t('profile.rated', { rating: it.rating })} <a href=${'#/console/' + it.ticket_id}>#${it.ticket_id}</a>${it.comment ? ' — ' + it.comment : ''}`;
      break;
    case 'offer':
      body = html`<strong>${it.store || it.item}</strong> <span class="muted">${t('profile.offer.' + it.status)}</span>${it.redeemed_at ? html` <span class="badge redeemed">${t('offers.redeemed')}</span>` : null}`;
      break;
    case 'consent':
      body = html`${it.granted ? t('profile.consentGranted') : t('profile.consentWithdrawn')} <span class="muted">${it.by}</span>`;
      break;
    default:
      body = it.kind;
  }
  return html`<li data-kind=${it.kind} data-source=${it.source || ''} title=${dateTime(it.at)}>
    <span class="badge">${t('profile.kind.' + it.kind)}</span> ${it.source && html`<${SourceTag} value=${it.source} />`} ${body}
    <span class="muted small"> ${ago(it.at)}</span></li>`;
}
