// Full-text search over every mention, with facets.
import { html, useState, useEffect } from './html.js';
import { t, num, dateTime } from './i18n.js';
import { get, qs } from './api.js';
import { navigate } from './route.js';
import { SentimentBadge, IntentBadge, LangBadge, SourceTag, StatusBadge, Empty, ErrorNote, Highlight, authorLabel } from './common.js';

const FACETS = ['source', 'lang', 'sentiment', 'queue', 'intent', 'status'];
const SIZE = 20;

// facetClause is the query-string clause that keeps one facet value; the
// sentiment facet counts bands of the sentiment field.
function facetClause(name, value) {
  if (name === 'sentiment') {
    return { negative: '+sentiment:<-0.05', neutral: '+sentiment:>=-0.05 +sentiment:<=0.05', positive: '+sentiment:>0.05' }[value];
  }
  return `+${name}:${/^[\w.@-]+$/.test(value) ? value : JSON.stringify(value)}`;
}

// The date inputs hold local times; the API wants RFC 3339.
const toISO = (local) => (local ? new Date(local).toISOString() : '');

export function Search({ route }) {
  const p = route.params;
  const q = p.get('q') || '';
  const from = p.get('from') || '';
  const to = p.get('to') || '';
  const page = Number(p.get('page') || 1);
  const [draft, setDraft] = useState({ q, from, to });
  const [res, setRes] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => { setDraft({ q, from, to }); }, [q, from, to]);
  useEffect(() => {
    // stale: the query changed before this answer came back; a newer
    // request owns the page now.
    let stale = false;
    setLoading(true);
    get('/search' + qs({ q, from: toISO(from), to: toISO(to), page, size: SIZE, facets: FACETS.join(',') }))
      .then((r) => { if (!stale) { setRes(r); setError(null); } }, (e) => { if (!stale) setError(e); })
      .finally(() => { if (!stale) setLoading(false); });
    return () => { stale = true; };
  }, [q, from, to, page]);

  const go = (over) => navigate('search', { q, from, to, ...over });
  const submit = (e) => { e.preventDefault(); go({ ...draft, page: '' }); };
  const addFacet = (name, value) => {
    const c = facetClause(name, value);
    if (!q.includes(c)) go({ q: (q ? q + ' ' : '') + c, page: '' });
  };
  const pages = res ? Math.min(Math.ceil(res.total / SIZE), Math.floor(10000 / SIZE)) : 0;

  return html`
    <div class="search">
      <form class="search-bar card" role="search" onSubmit=${submit}>
        <label class="grow"><span class="sr-only">${t('search.query')}</span>
          <input id="search-q" type="search" value=${draft.q} placeholder=${t('search.placeholder')} onInput=${(e) => setDraft({ ...draft, q: e.target.value })} /></label>
        <label><span>${t('search.from')}</span><input id="search-from" type="datetime-local" value=${draft.from} onInput=${(e) => setDraft({ ...draft, from: e.target.value })} /></label>
        <label><span>${t('search.to')}</span><input id="search-to" type="datetime-local" value=${draft.to} onInput=${(e) => setDraft({ ...draft, to: e.target.value })} /></label>
        <button class="btn primary" id="search-go" type="submit">${t('search.go')}</button>
      </form>
      <${ErrorNote} error=${error} />
      <div class="search-body">
        <aside class="facets" aria-label=${t('search.facets')}>
          ${res && FACETS.map((name) => {
            const f = res.facets?.[name];
            if (!f || !f.values?.some((v) => v.count)) return null;
            return html`<section class="facet" data-facet=${name}>
              <h3>${t('filter.' + name)}</h3>
              <ul>${f.values.filter((v) => v.count).map((v) => html`<li>
                <button class="facet-value" data-value=${v.value} onClick=${() => addFacet(name, v.value)}>
                  <span>${name === 'sentiment' ? t('sentiment.' + v.value) : name === 'status' ? t('status.' + v.value) : name === 'intent' ? t('intent.' + v.value) : v.value}</span>
                  <span class="count">${num(v.count)}</span></button></li>`)}</ul>
            </section>`;
          })}
        </aside>
        <section class="results" aria-busy=${loading}>
          ${res && html`<p class="muted" id="search-total">${t('search.total', { n: num(res.total) })}</p>`}
          <ol class="hits" id="hits">
            ${res?.hits.map((h) => html`<li class="hit">
              <div class="row1"><${SourceTag} value=${h.source} /><strong>${authorLabel(h.author)}</strong>
                <span class="muted">${h.author?.handle || ''}</span><span class="muted right">${dateTime(h.created_at)}</span></div>
              <p class="msg-text">${h.highlights?.text?.length ? h.highlights.text.map((fr) => html`<${Highlight} fragment=${fr} /> `) : h.text}</p>
              <div class="row2"><${SentimentBadge} value=${h.enrichment?.sentiment} /><${IntentBadge} value=${h.enrichment?.intent} /><${LangBadge} value=${h.enrichment?.lang} />
                ${h.queue && html`<span class="badge queue">${h.queue}</span>`}
                ${h.status && html`<${StatusBadge} value=${h.status} />`}
                ${h.ticket_id ? html`<a class="ticket-link" href=${'#/console/' + h.ticket_id}>${t('watch.ticket', { id: h.ticket_id })}</a>` : null}</div>
            </li>`)}
          </ol>
          ${res && !res.hits.length && html`<${Empty}>${t('search.none')}</${Empty}>`}
          ${pages > 1 && html`<nav class="pager" aria-label=${t('search.pages')}>
            <button class="btn ghost" disabled=${page <= 1} onClick=${() => go({ page: page - 1 })}>← ${t('search.prev')}</button>
            <span>${t('search.page', { page, pages })}</span>
            <button class="btn ghost" disabled=${page >= pages} onClick=${() => go({ page: page + 1 })}>${t('search.next')} →</button>
          </nav>`}
        </section>
      </div>
    </div>`;
}
