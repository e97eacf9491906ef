// The watch room: the live stream of mentions, filters, a per-minute
// sparkline of volume and sentiment, and the alerts.
import { html, useState, useEffect, useMemo } from './html.js';
import { t, time, num, ago } from './i18n.js';
import { get, post, qs, missing } from './api.js';
import { useNow, SentimentBadge, IntentBadge, LangBadge, SourceTag, Empty, ErrorNote, sentimentBand, authorLabel } from './common.js';

const KEEP = 500; // mentions kept in the page
const MINUTES = 30; // the sparkline's span

// item normalises a mention.received payload and a search hit into one shape.
function fromEvent(d) {
  const m = d.mention;
  return {
    key: m.source + '/' + m.id, source: m.source, text: m.text, author: m.author, url: m.url,
    created_at: m.created_at, at: Date.parse(d.received_at) || Date.now(),
    lang: d.enrichment?.lang, sentiment: d.enrichment?.sentiment, intent: d.enrichment?.intent,
    queue: d.decision?.drop ? '' : d.decision?.queue, ticket_id: d.ticket_id,
  };
}

function fromHit(h) {
  return {
    key: h.key, source: h.source, text: h.text, author: h.author, url: h.url,
    created_at: h.created_at, at: Date.parse(h.created_at),
    lang: h.enrichment?.lang, sentiment: h.enrichment?.sentiment, intent: h.enrichment?.intent,
    queue: h.queue, ticket_id: h.ticket_id,
  };
}

export function Watch({ perms, live }) {
  const [items, setItems] = useState([]);
  const [f, setF] = useState({ source: '', lang: '', sentiment: '', queue: '', q: '' });
  const [paused, setPaused] = useState(false);
  const now = useNow(5000);

  useEffect(() => {
    // Seed the stream with the latest mentions when search is allowed.
    if (perms.has('search')) {
      get('/search' + qs({ size: 50, sort: 'newest' }))
        .then((r) => setItems((prev) => merge(prev, r.hits.map(fromHit))))
        .catch(() => {});
    }
    return live.on('mention.received', (d) => setItems((prev) => merge(prev, [fromEvent(d)])));
  }, [live]);

  const options = useMemo(() => {
    const o = { source: new Set(), lang: new Set(), queue: new Set() };
    for (const it of items) {
      if (it.source) o.source.add(it.source);
      if (it.lang) o.lang.add(it.lang);
      if (it.queue) o.queue.add(it.queue);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [...v].sort()]));
  }, [items]);

  const shown = useMemo(() => {
    const q = f.q.trim().toLowerCase();
    return items.filter((it) => (!f.source || it.source === f.source) && (!f.lang || it.lang === f.lang)
      && (!f.queue || it.queue === f.queue) && (!f.sentiment || sentimentBand(it.sentiment) === f.sentiment)
      && (!q || it.text.toLowerCase().includes(q) || (it.author?.handle || '').toLowerCase().includes(q)));
  }, [items, f]);

  const [frozen, setFrozen] = useState([]);
  useEffect(() => { if (!paused) setFrozen(shown); }, [shown, paused]);
  const list = paused ? frozen : shown;
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });

  return html`
    <div class="watch">
      <section class="stream" aria-label=${t('watch.stream')}>
        <div class="filters" role="search">
          <label><span>${t('filter.keyword')}</span><input id="watch-q" type="search" value=${f.q} onInput=${set('q')} placeholder=${t('filter.keywordHint')} /></label>
          <${Select} id="watch-source" label=${t('filter.source')} value=${f.source} onChange=${set('source')} options=${options.source} />
          <${Select} id="watch-lang" label=${t('filter.lang')} value=${f.lang} onChange=${set('lang')} options=${options.lang} />
          <${Select} id="watch-sentiment" label=${t('filter.sentiment')} value=${f.sentiment} onChange=${set('sentiment')} options=${['negative', 'neutral', 'positive']} text=${(v) => t('sentiment.' + v)} />
          <${Select} id="watch-queue" label=${t('filter.queue')} value=${f.queue} onChange=${set('queue')} options=${options.queue} />
          <button class="btn ghost" onClick=${() => setPaused(!paused)} aria-pressed=${paused}>${paused ? t('watch.resume') : t('watch.pause')}</button>
        </div>
        <p class="muted small">${t('watch.showing', { n: num(list.length), total: num(items.length) })}</p>
        <ol class="mentions" id="mentions" aria-live=${paused ? 'off' : 'polite'}>
          ${list.slice(0, 200).map((it) => html`<${MentionRow} key=${it.key} it=${it} now=${now} />`)}
        </ol>
        ${!list.length && html`<${Empty}>${t('watch.waiting')}</${Empty}>`}
      </section>
      <aside class="watch-side">
        <section class="card">
          <h2>${t('watch.perMinute')}</h2>
          <${Sparkline} items=${items} now=${now} />
          <p class="muted small">${t('watch.sparkNote', { n: MINUTES })}</p>
        </section>
        ${perms.has('read_alerts') && html`<${Alerts} live=${live} perms=${perms} />`}
      </aside>
    </div>`;
}

function merge(prev, add) {
  const seen = new Set(prev.map((x) => x.key));
  const fresh = add.filter((x) => !seen.has(x.key) && seen.add(x.key));
  if (!fresh.length) return prev;
  return [...fresh, ...prev].sort((a, b) => b.at - a.at).slice(0, KEEP);
}

function Select({ id, label, value, onChange, options, text = (v) => v }) {
  return html`<label><span>${label}</span><select id=${id} value=${value} onChange=${onChange}>
    <option value="">${t('filter.all')}</option>
    ${options.map((o) => html`<option value=${o}>${text(o)}</option>`)}
  </select></label>`;
}

function MentionRow({ it, now }) {
  return html`<li class=${'mention s-' + sentimentBand(it.sentiment)}>
    <div class="row1">
      <${SourceTag} value=${it.source} />
      <strong>${authorLabel(it.author)}</strong>
      <span class="muted">${it.author?.handle || ''}</span>
      <span class="muted right" title=${it.created_at}>${ago(it.at, now)}</span>
    </div>
    <p class="msg-text">${it.text}</p>
    <div class="row2">
      <${SentimentBadge} value=${it.sentiment} /><${IntentBadge} value=${it.intent} /><${LangBadge} value=${it.lang} />
      ${it.queue && html`<span class="badge queue">${it.queue}</span>`}
      ${it.ticket_id ? html`<a href=${'#/console/' + it.ticket_id}>${t('watch.ticket', { id: it.ticket_id })}</a>` : null}
    </div>
  </li>`;
}

// Sparkline draws mentions per minute (bars) and net sentiment per minute
// (line, -1 to 1) over the last MINUTES minutes, as inline SVG.
function Sparkline({ items, now }) {
  const W = 300, H = 80, n = MINUTES;
  const end = Math.floor(now / 60000);
  const vol = new Array(n).fill(0), pos = new Array(n).fill(0), neg = new Array(n).fill(0);
  for (const it of items) {
    const i = n - 1 - (end - Math.floor(it.at / 60000));
    if (i < 0 || i >= n) continue;
    vol[i]++;
    const b = sentimentBand(it.sentiment);
    if (b === 'positive') pos[i]++;
    if (b === 'negative') neg[i]++;
  }
  const max = Math.max(1, ...vol);
  const bw = W / n;
  const pts = [];
  for (let i = 0; i < n; i++) {
    if (pos[i] + neg[i] === 0) continue;
    const net = (pos[i] - neg[i]) / (pos[i] + neg[i]);
    pts.push(`${(i + 0.5) * bw},${H / 2 - net * (H / 2 - 4)}`);
  }
  const total = vol.reduce((a, b) => a + b, 0);
  const label = t('watch.sparkLabel', { n: total, m: n });
  return html`<svg class="spark" viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${label} id="sparkline">
    <title>${label}</title>
    <line x1="0" x2=${W} y1=${H / 2} y2=${H / 2} class="axis" />
    ${vol.map((v, i) => v ? html`<rect x=${i * bw + 1} width=${bw - 2} y=${H - (v / max) * H} height=${(v / max) * H} class="bar"><title>${v}</title></rect>` : null)}
    ${pts.length > 1 && html`<polyline points=${pts.join(' ')} class="net" />`}
    ${pts.map((p) => { const [x, y] = p.split(','); return html`<circle cx=${x} cy=${y} r="2" class="net-dot" />`; })}
  </svg>
  <div class="legend small"><span class="key bar"></span>${t('watch.volume')} <span class="key net"></span>${t('watch.netSentiment')}
    <span class="muted range">${time(now - (n - 1) * 60000)} – ${time(now)}</span></div>`;
}

// Alerts lists the open and acknowledged alerts when the server has them
// (the watch package); without the endpoint it says so in one line instead
// of an empty panel.
function Alerts({ live, perms }) {
  const [alerts, setAlerts] = useState(undefined);
  const [error, setError] = useState(null);
  const now = useNow(10000);
  const load = () => Promise.all(['open', 'acked'].map((st) => get('/alerts' + qs({ status: st, limit: 50 }))))
    .then(([o, a]) => setAlerts([...(o.alerts || []), ...(a.alerts || [])]))
    .catch((e) => setAlerts(missing(e) ? null : []));
  useEffect(() => {
    load();
    const offs = ['alert.raised', 'alert.updated', 'alert.acked', 'alert.resolved'].map((ty) => live.on(ty, load));
    return () => offs.forEach((o) => o());
  }, []);
  const ack = (id) => post(`/alerts/${id}/ack`).then(load, setError);
  if (alerts === undefined) return null;
  if (alerts === null) return html`<p class="muted small" id="alerts-missing">${t('watch.alertsLater')}</p>`;
  return html`<section class="card" id="alerts" aria-live="polite">
    <h2>${t('watch.alerts')} ${alerts.length ? html`<span class="badge sev-critical">${alerts.filter((a) => a.status === 'open').length}</span>` : null}</h2>
    <${ErrorNote} error=${error} />
    ${alerts.length ? html`<ul class="alerts">${alerts.map((a) => html`<li class=${'alert sev-' + a.severity + ' ' + a.status} data-alert=${a.id}>
      <div class="row1"><span class=${'badge sev-' + a.severity}>${t('severity.' + a.severity)}</span>
        <strong>${a.title}</strong><span class="muted right">${ago(a.raised_at, now)}</span></div>
      ${a.explanation?.reason && html`<p class="small">${a.explanation.reason}</p>`}
      ${a.explanation?.matched?.length ? html`<p class="small muted">${a.explanation.matched.join(', ')}</p>` : null}
      ${a.status === 'acked' ? html`<p class="small muted">${t('watch.ackedBy', { user: a.acked_by || '?' })}</p>`
        : perms.has('ack_alerts') && html`<button class="btn small" onClick=${() => ack(a.id)}>${t('watch.ack')}</button>`}
    </li>`)}</ul>` : html`<p class="muted">${t('watch.noAlerts')}</p>`}
  </section>`;
}
