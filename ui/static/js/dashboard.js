// The managers' dashboard: KPIs over a range, live, with a drill-down from
// any point of a chart to the tickets behind it, and the agents' workload.
import { html, useState, useEffect, useMemo, useRef } from './html.js';
import { t, num, pct, duration, dateTime } from './i18n.js';
import { get, qs, missing } from './api.js';
import { Chart } from './chart.js';
import { Empty, ErrorNote, StatusBadge, PriorityBadge, authorLabel } from './common.js';

const HOUR = 3600;
// The ranges offered, with a bucket size that keeps charts readable.
const RANGES = { '24h': [24 * HOUR, HOUR], '7d': [7 * 24 * HOUR, 6 * HOUR], '30d': [30 * 24 * HOUR, 24 * HOUR] };
const REFRESH = 30000;

function rangeOf(key, custom) {
  if (key === 'custom' && custom.from && custom.to) {
    const from = new Date(custom.from).getTime() / 1000;
    const to = new Date(custom.to).getTime() / 1000;
    const span = Math.max(HOUR, to - from);
    const step = [HOUR / 4, HOUR, 6 * HOUR, 24 * HOUR, 7 * 24 * HOUR].find((s) => span / s <= 200) || 7 * 24 * HOUR;
    return { from, to, step };
  }
  const [span, step] = RANGES[key] || RANGES['24h'];
  // The range ends at the end of the current bucket, so that the last
  // bucket is whole and fills live.
  const end = (Math.floor(Date.now() / 1000 / step) + 1) * step;
  return { from: end - span, to: end, step };
}

const iso = (sec) => new Date(sec * 1000).toISOString();

export function Dashboard({ perms }) {
  const [rangeKey, setRangeKey] = useState('24h');
  const [custom, setCustom] = useState({ from: '', to: '' });
  const [liveOn, setLiveOn] = useState(true);
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [pick, setPick] = useState(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    if (!liveOn) return undefined;
    const id = setInterval(() => setTick((n) => n + 1), REFRESH);
    return () => clearInterval(id);
  }, [liveOn]);

  useEffect(() => {
    const r = rangeOf(rangeKey, custom);
    const base = { from: iso(r.from), to: iso(r.to) };
    // stale: the range changed before these answers came back.
    let stale = false;
    Promise.all([
      get('/kpis' + qs({ ...base, interval: r.step + 's' })),
      get('/kpis' + qs({ ...base, interval: r.step + 's', by: 'queue' })),
      get('/kpis' + qs({ ...base, interval: (r.to - r.from) + 's' })),
    ]).then(([all, byQueue, total]) => {
      if (stale) return;
      setData({
        r, all: all.buckets || [], byQueue: byQueue.buckets || [], total: (total.buckets || [])[0] || {},
        // The CRM's engagement KPIs, when the server has them.
        engagement: all.engagement?.buckets || [], engagementTotal: total.engagement ? (total.engagement.buckets || [])[0] || {} : null,
      });
      setError(null);
    }, (e) => { if (!stale) setError(e); });
    return () => { stale = true; };
  }, [rangeKey, custom.from, custom.to, tick]);

  const charts = useMemo(() => (data ? build(data) : null), [data]);
  const onPick = (i) => {
    if (!charts) return;
    const start = charts.x[i];
    setPick({ from: start, to: start + data.r.step });
  };

  return html`
    <div class="dashboard">
      <div class="toolbar card">
        <div class="tabs" role="group" aria-label=${t('dash.range')}>
          ${[...Object.keys(RANGES), 'custom'].map((k) => html`<button class=${rangeKey === k ? 'active' : ''} aria-pressed=${rangeKey === k} data-range=${k} onClick=${() => setRangeKey(k)}>${t('dash.range.' + k)}</button>`)}
        </div>
        ${rangeKey === 'custom' && html`
          <label><span>${t('search.from')}</span><input type="datetime-local" value=${custom.from} onChange=${(e) => setCustom({ ...custom, from: e.target.value })} /></label>
          <label><span>${t('search.to')}</span><input type="datetime-local" value=${custom.to} onChange=${(e) => setCustom({ ...custom, to: e.target.value })} /></label>`}
        <label class="switch right"><input type="checkbox" checked=${liveOn} onChange=${() => setLiveOn(!liveOn)} /> ${t('dash.live')}</label>
      </div>
      ${error && html`<${ErrorNote} error=${missing(error) ? new Error(t('dash.noKpis')) : error} />`}
      ${data && html`
        <div class="tiles" id="kpi-tiles">
          <${Tile} label=${t('kpi.mentions')} value=${num(data.total.mentions || 0)} />
          <${Tile} label=${t('kpi.tickets')} value=${num(data.total.tickets || 0)} />
          <${Tile} label=${t('kpi.frp50')} value=${duration(data.total.first_response_p50_seconds)} />
          <${Tile} label=${t('kpi.frp90')} value=${duration(data.total.first_response_p90_seconds)} />
          <${Tile} label=${t('kpi.sla')} value=${pct(data.total.sla_hit_rate)} />
          <${Tile} label=${t('kpi.net')} value=${data.total.net_sentiment == null ? '–' : num(data.total.net_sentiment, { maximumFractionDigits: 2, signDisplay: 'exceptZero' })} />
          <${Tile} label=${t('kpi.sov')} value=${pct(data.total.share_of_voice)} />
          <${Tile} label=${t('kpi.csat')} value=${pct(data.total.csat_score)} title=${t('kpi.csatHint', { n: num(data.total.csat_responses || 0) })} />
          ${data.engagementTotal !== null ? html`
            <${Tile} label=${t('kpi.interactionRate')} value=${rate(data.engagementTotal.interaction_rate)}
              title=${t('kpi.interactionRateHint', { n: num(data.engagementTotal.interactions || 0) })} />
            <${Tile} label=${t('kpi.newProspects')} value=${num(data.engagementTotal.new_prospects || 0)} title=${t('kpi.newProspectsHint')} />` : null}
        </div>
        <p class="muted small">${t('dash.clickHint')}</p>
        <div class="charts">
          <${Panel} title=${t('chart.volume')}><${Chart} id="chart-volume" label=${t('chart.volume')} x=${charts.x} series=${charts.volume} yFmt=${(v) => num(v)} onPick=${onPick} /></${Panel}>
          <${Panel} title=${t('chart.frt')}><${Chart} id="chart-frt" label=${t('chart.frt')} x=${charts.x} series=${charts.frt} yFmt=${(v) => duration(v)} onPick=${onPick} /></${Panel}>
          <${Panel} title=${t('chart.sla')}><${Chart} id="chart-sla" label=${t('chart.sla')} x=${charts.x} series=${charts.sla} yFmt=${pct} yRange=${[0, 1]} onPick=${onPick} /></${Panel}>
          <${Panel} title=${t('chart.net')}><${Chart} id="chart-net" label=${t('chart.net')} x=${charts.x} series=${charts.net} yFmt=${(v) => num(v, { maximumFractionDigits: 2 })} yRange=${[-1, 1]} onPick=${onPick} /></${Panel}>
          <${Panel} title=${t('chart.sov')}><${Chart} id="chart-sov" label=${t('chart.sov')} x=${charts.x} series=${charts.sov} yFmt=${pct} yRange=${[0, 1]} onPick=${onPick} /></${Panel}>
          <${Panel} title=${t('chart.csat')}><${Chart} id="chart-csat" label=${t('chart.csat')} x=${charts.x} series=${charts.csat} yFmt=${pct} yRange=${[0, 1]} onPick=${onPick} /></${Panel}>
          <${Panel} title=${t('chart.engagement')}><${Chart} id="chart-engagement" label=${t('chart.engagement')} x=${charts.x} series=${charts.engagement} yFmt=${(v) => num(v)} onPick=${onPick} /></${Panel}>
          <${Panel} title=${t('dash.workload')}><${Workload} tick=${tick} /></${Panel}>
        </div>`}
      ${pick && html`<${DrillDown} pick=${pick} onClose=${() => setPick(null)} />`}
    </div>`;
}

// build turns KPI buckets into aligned chart columns.
function build({ r, all, byQueue, engagement }) {
  const x = [];
  for (let s = r.from; s < r.to; s += r.step) x.push(s);
  const at = new Map(x.map((s, i) => [s, i]));
  const col = (rows, f) => {
    const v = new Array(x.length).fill(null);
    for (const b of rows) {
      const i = at.get(Math.round(Date.parse(b.start) / 1000));
      if (i !== undefined) v[i] = f(b);
    }
    return v;
  };
  const keys = [...new Set(byQueue.map((b) => b.key))].sort();
  const volume = keys.map((k) => ({
    label: k || t('dash.noQueue'),
    values: col(byQueue.filter((b) => b.key === k), (b) => b.mentions).map((v) => v ?? 0),
  }));
  return {
    x,
    volume,
    frt: [
      { label: 'p50', values: col(all, (b) => b.first_response_p50_seconds) },
      { label: 'p90', values: col(all, (b) => b.first_response_p90_seconds), dash: [6, 4] },
    ],
    sla: [{ label: t('kpi.sla'), values: col(all, (b) => b.sla_hit_rate), color: '#16a34a' }],
    net: [{ label: t('kpi.net'), values: col(all, (b) => b.net_sentiment), color: '#7c3aed' }],
    sov: [{ label: t('kpi.sov'), values: col(all, (b) => b.share_of_voice), color: '#ea580c' }],
    csat: [{ label: t('kpi.csat'), values: col(all, (b) => b.csat_score), color: '#0891b2' }],
    engagement: [
      { label: t('kpi.interactions'), values: col(engagement, (b) => b.interactions).map((v) => v ?? 0), color: '#db2777' },
      { label: t('kpi.newProspects'), values: col(engagement, (b) => b.new_prospects).map((v) => v ?? 0), color: '#65a30d', dash: [6, 4] },
    ],
  };
}

// rate shows an interaction rate (interactions per follower) per thousand
// followers: the rates are small.
function rate(v) {
  return v == null ? '–' : t('kpi.perThousand', { v: num(v * 1000, { maximumFractionDigits: 2 }) });
}

function Tile({ label, value, title }) {
  return html`<div class="tile" title=${title}><span class="tile-label">${label}</span><span class="tile-value">${value}</span></div>`;
}

function Panel({ title, children }) {
  return html`<section class="card panel"><h2>${title}</h2>${children}</section>`;
}

// Workload shows the agents from the desk's assignment engine (presence,
// load against capacity, skills) when the server has GET /agents, and
// otherwise counts the tickets each agent holds from the desk's lists.
function Workload({ tick }) {
  const [agents, setAgents] = useState(undefined); // null: no /agents here
  useEffect(() => {
    get('/agents').then((r) => setAgents(r.agents || []), (e) => setAgents(missing(e) ? null : []));
  }, [tick]);
  if (agents === undefined) return html`<p class="muted">${t('app.loading')}</p>`;
  if (agents === null) return html`<${TicketWorkload} tick=${tick} />`;
  if (!agents.length) return html`<${Empty}>${t('dash.noAgents')}</${Empty}>`;
  const order = { online: 0, away: 1, offline: 2 };
  const rows = agents.slice().sort((a, b) => (order[a.presence] ?? 3) - (order[b.presence] ?? 3) || b.load - a.load || a.name.localeCompare(b.name));
  return html`<table class="workload" id="workload" data-source="agents"><thead><tr><th scope="col">${t('dash.agent')}</th><th scope="col">${t('dash.presence')}</th>
      <th scope="col">${t('dash.load')}</th><th scope="col">${t('dash.skills')}</th></tr></thead>
    <tbody>${rows.map((a) => {
      const full = a.capacity > 0 && a.load >= a.capacity;
      const share = a.capacity > 0 ? Math.min(1, a.load / a.capacity) : 0;
      return html`<tr data-agent=${a.name}>
        <th scope="row">${a.name}</th>
        <td><span class=${'presence-dot ' + a.presence}></span>${t('presence.' + a.presence)}</td>
        <td class="barcell"><span class="load-num">${a.capacity > 0 ? `${a.load} / ${a.capacity}` : a.load}</span>
          ${a.capacity > 0 && html`<span class="loadbar" title=${t('dash.loadTitle', { load: a.load, capacity: a.capacity })}><span class=${'loadfill' + (full ? ' full' : '')} style=${`width:${share * 100}%`}></span></span>`}</td>
        <td>${Object.entries(a.skills || {}).sort((x, y) => y[1] - x[1]).map(([q, l]) => html`<span class="badge tag" title=${t('dash.skillLevel', { queue: q, level: l })}>${q} ${l}</span> `)}</td>
      </tr>`;
    })}</tbody></table>`;
}

// TicketWorkload counts the tickets each agent holds, from the desk's lists.
function TicketWorkload({ tick }) {
  const [rows, setRows] = useState(null);
  useEffect(() => {
    Promise.all(['assigned', 'pending'].map((s) => get('/tickets' + qs({ status: s, limit: 500 }))))
      .then(([a, p]) => {
        const by = new Map();
        for (const [list, k] of [[a.tickets, 'assigned'], [p.tickets, 'pending']]) {
          for (const tk of list) {
            const r = by.get(tk.assignee || '') || { agent: tk.assignee || '', assigned: 0, pending: 0 };
            r[k]++;
            by.set(r.agent, r);
          }
        }
        setRows([...by.values()].sort((x, y) => y.assigned + y.pending - x.assigned - x.pending));
      }, () => setRows([]));
  }, [tick]);
  if (!rows) return html`<p class="muted">${t('app.loading')}</p>`;
  if (!rows.length) return html`<${Empty}>${t('dash.noWorkload')}</${Empty}>`;
  const max = Math.max(...rows.map((r) => r.assigned + r.pending));
  return html`<table class="workload" id="workload"><thead><tr><th scope="col">${t('dash.agent')}</th><th scope="col">${t('status.assigned')}</th><th scope="col">${t('status.pending')}</th><th></th></tr></thead>
    <tbody>${rows.map((r) => html`<tr><th scope="row">${r.agent || t('dash.unassigned')}</th><td>${r.assigned}</td><td>${r.pending}</td>
      <td class="barcell"><span class="hbar a" style=${`width:${(r.assigned / max) * 100}%`}></span><span class="hbar p" style=${`width:${(r.pending / max) * 100}%`}></span></td></tr>`)}</tbody></table>`;
}

// DrillDown lists the tickets created in a bucket, newest first, reading
// the desk's list page by page (it is ordered newest first) until it passes
// the bucket's start; it reads at most DRILL_PAGES pages.
const DRILL_PAGES = 10;

function DrillDown({ pick, onClose }) {
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);
  const box = useRef(null);
  useEffect(() => {
    box.current?.focus();
    const onKey = (e) => { if (e.key === 'Escape') onClose(); };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
  useEffect(() => {
    let cancelled = false;
    setRows(null);
    (async () => {
      const from = pick.from * 1000, to = pick.to * 1000;
      const out = [];
      let cursor = '', pages = 0, more = true;
      while (more && pages < DRILL_PAGES) {
        const page = await get('/tickets' + qs({ limit: 500, cursor }));
        pages++;
        for (const tk of page.tickets) {
          const at = Date.parse(tk.created_at);
          if (at >= from && at < to) out.push(tk);
        }
        const last = page.tickets[page.tickets.length - 1];
        cursor = page.next_cursor || '';
        more = !!cursor && last && Date.parse(last.created_at) >= from;
      }
      if (!cancelled) setRows({ tickets: out, partial: more });
    })().catch((e) => { if (!cancelled) setError(e); });
    return () => { cancelled = true; };
  }, [pick.from, pick.to]);
  return html`<section class="card drill" id="drill" aria-live="polite" tabindex="-1" ref=${box} role="dialog" aria-label=${t('dash.drillTitle', { from: dateTime(pick.from * 1000), to: dateTime(pick.to * 1000) })}>
    <header><h2>${t('dash.drillTitle', { from: dateTime(pick.from * 1000), to: dateTime(pick.to * 1000) })}</h2>
      <button class="btn ghost" onClick=${onClose} aria-label=${t('help.close')}>✕</button></header>
    <${ErrorNote} error=${error} />
    ${!rows && !error && html`<p class="muted">${t('app.loading')}</p>`}
    ${rows && html`<p class="muted small">${t(rows.partial ? 'dash.drillPartial' : 'dash.drillCount', { t: num(rows.tickets.length) })}</p>
      ${rows.tickets.length ? html`<table class="drill-table"><thead><tr><th scope="col">#</th><th scope="col">${t('ticket.author')}</th><th scope="col">${t('filter.queue')}</th><th scope="col">${t('badge.priority')}</th><th scope="col">${t('badge.status')}</th><th scope="col">${t('dash.agent')}</th></tr></thead>
        <tbody>${rows.tickets.map((r) => html`<tr><td><a href=${'#/console/' + r.id}>#${r.id}</a></td><td>${authorLabel(r.author)}</td><td>${r.queue}</td>
          <td><${PriorityBadge} value=${r.priority} /></td><td><${StatusBadge} value=${r.status} /></td><td>${r.assignee || ''}</td></tr>`)}</tbody></table>`
        : html`<${Empty}>${t('dash.drillNone')}</${Empty}>`}`}
  </section>`;
}
