// Geolocated offers, for managers: the geofences (stores) with a sketch of
// their shape, the campaigns that send offers in them, and every decision
// the engine took, sent or skipped, with its delivery.
import { html, useState, useEffect, useMemo, useRef } from './html.js';
import { t, tn, num, dateTime } from './i18n.js';
import { get, post, api, qs } from './api.js';
import { Empty, ErrorNote } from './common.js';

// The engine's enumerations (offer/decision.go).
export const REASONS = ['duplicate', 'no_campaign', 'stale', 'no_consent', 'consent_withdrawn', 'capped_user',
  'outside_dates', 'closed', 'quiet_hours', 'not_in_segment', 'capped_campaign'];
export const DELIVERIES = ['none', 'queued', 'delivered', 'dead', 'cancelled'];
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

// KPI_PAGES bounds how many pages of decisions the tiles read (newest
// first, 500 a page).
const KPI_PAGES = 10;

export function Offers({ perms }) {
  const manage = perms.has('manage_offers');
  const [fences, setFences] = useState(null);
  const [fenceTick, setFenceTick] = useState(0);
  const [error, setError] = useState(null);
  useEffect(() => {
    get('/geofences').then((r) => { setFences(r.fences || []); setError(null); }, setError);
  }, [fenceTick]);
  return html`<div class="offers">
    <${ErrorNote} error=${error} />
    <${Kpis} />
    <div class="offers-grid">
      <${Fences} fences=${fences} manage=${manage} onChange=${() => setFenceTick((n) => n + 1)} />
      <${Campaigns} fences=${fences || []} manage=${manage} />
    </div>
    <${Decisions} manage=${manage} />
  </div>`;
}

// ---- Geometry ----

// centreOf returns [lat, lon] of a fence: its circle's centre, or the
// middle of its outer ring's bounding box.
export function centreOf(geometry) {
  if (!geometry) return null;
  if (geometry.type === 'Point') return [geometry.coordinates[1], geometry.coordinates[0]];
  const ring = geometry.coordinates?.[0] || [];
  if (!ring.length) return null;
  const lons = ring.map((p) => p[0]), lats = ring.map((p) => p[1]);
  return [(Math.min(...lats) + Math.max(...lats)) / 2, (Math.min(...lons) + Math.max(...lons)) / 2];
}

const EARTH_M = 6371008.8;
const RAD = Math.PI / 180;

// project maps [lon, lat] to metres east and north of the centre, by an
// equirectangular projection: exact enough at the size of a store.
function projector([lat0, lon0]) {
  const k = Math.cos(lat0 * RAD);
  return ([lon, lat]) => {
    let dl = lon - lon0;
    if (dl > 180) dl -= 360;
    if (dl < -180) dl += 360;
    return [dl * RAD * k * EARTH_M, (lat - lat0) * RAD * EARTH_M];
  };
}

// niceLength is a round length (1, 2 or 5 times a power of ten) near m.
function niceLength(m) {
  const p = 10 ** Math.floor(Math.log10(m));
  return [5, 2, 1].map((f) => f * p).find((v) => v <= m) || p;
}

function metres(m) {
  return m >= 1000 ? t('unit.km', { n: num(m / 1000, { maximumFractionDigits: 1 }) }) : t('unit.m', { n: num(m) });
}

// FenceSketch draws a fence's shape without any map: an offline sketch,
// north up, with a scale bar.
export function FenceSketch({ geometry, radius, size = 160, id }) {
  const centre = centreOf(geometry);
  if (!centre || centre.some((v) => !Number.isFinite(v))) {
    return html`<div class="sketch empty-sketch" style=${`width:${size}px;height:${size}px`}>${t('offers.noShape')}</div>`;
  }
  const proj = projector(centre);
  let extent, body;
  if (geometry.type === 'Point') {
    const r = Number(radius) || 0;
    extent = Math.max(r, 1) * 1.25;
    body = html`<circle cx="0" cy="0" r=${r} class="fence-shape" />`;
  } else {
    const rings = (geometry.coordinates || []).map((ring) => ring.map(proj));
    extent = Math.max(1, ...rings.flat().map(([x, y]) => Math.max(Math.abs(x), Math.abs(y)))) * 1.15;
    const d = rings.map((ring) => 'M' + ring.map(([x, y]) => `${x.toFixed(1)},${(-y).toFixed(1)}`).join('L') + 'Z').join('');
    body = html`<path d=${d} class="fence-shape" fill-rule="evenodd" />`;
  }
  const bar = niceLength(extent * 0.8);
  const label = t('offers.sketchLabel', { lat: num(centre[0], { maximumFractionDigits: 5 }), lon: num(centre[1], { maximumFractionDigits: 5 }) });
  return html`<svg class="sketch" id=${id} viewBox=${`${-extent} ${-extent} ${2 * extent} ${2 * extent}`} width=${size} height=${size} role="img" aria-label=${label}>
    <title>${label}</title>
    <line x1=${-extent} y1="0" x2=${extent} y2="0" class="sketch-axis" vector-effect="non-scaling-stroke" />
    <line x1="0" y1=${-extent} x2="0" y2=${extent} class="sketch-axis" vector-effect="non-scaling-stroke" />
    ${body}
    <circle cx="0" cy="0" r=${extent / 60} class="sketch-centre" />
    ${size >= 120 && html`<text x=${-extent * 0.92} y=${-extent * 0.8} class="sketch-north" font-size=${extent / 7}>N↑</text>
    <line x1=${extent * 0.9 - bar} y1=${extent * 0.88} x2=${extent * 0.9} y2=${extent * 0.88} class="sketch-bar" vector-effect="non-scaling-stroke" />
    <text x=${extent * 0.9} y=${extent * 0.8} text-anchor="end" class="sketch-scale" font-size=${extent / 9}>${metres(bar)}</text>`}
  </svg>`;
}

// ---- Geofences ----

const browserZone = (() => { try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'Europe/Paris'; } catch { return 'Europe/Paris'; } })();

const EMPTY_FENCE = {
  id: 0, name: '', tags: '', shape: 'circle', lat: '', lon: '', radius: '150', polygon: '', time_zone: browserZone,
  always: true, hours: Object.fromEntries(DAYS.map((d) => [d, ''])), exceptions: '',
};

// fenceForm turns a fence from the server into the form's fields.
function fenceForm(f) {
  const circle = f.geometry?.type === 'Point';
  return {
    id: f.id, name: f.name, tags: (f.tags || []).join(', '),
    shape: circle ? 'circle' : 'polygon',
    lat: circle ? String(f.geometry.coordinates[1]) : '', lon: circle ? String(f.geometry.coordinates[0]) : '',
    radius: circle ? String(f.radius_m) : '150',
    polygon: circle ? '' : JSON.stringify(f.geometry, null, 0),
    time_zone: f.time_zone, always: !f.hours,
    hours: Object.fromEntries(DAYS.map((d) => [d, (f.hours?.[d] || []).join(', ')])),
    exceptions: (f.exceptions || []).map((e) => [e.date, e.closed ? 'closed' : (e.hours || []).join(', '), e.note ? '# ' + e.note : ''].filter(Boolean).join(' ')).join('\n'),
  };
}

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

// parsePolygon accepts a GeoJSON Polygon geometry, a Feature holding one,
// or bare coordinates (a list of rings of [lon, lat]).
export function parsePolygon(text) {
  let v;
  try { v = JSON.parse(text); } catch (e) { throw new Error(t('offers.badGeoJSON', { why: e.message })); }
  if (v && v.type === 'Feature') v = v.geometry;
  if (Array.isArray(v)) v = { type: 'Polygon', coordinates: v };
  if (!v || v.type !== 'Polygon' || !Array.isArray(v.coordinates)) throw new Error(t('offers.notPolygon'));
  return { type: 'Polygon', coordinates: v.coordinates };
}

// parseExceptions reads one exception a line: "2026-12-25 closed",
// "2026-12-24 09:00-12:00, 14:00-16:00", with an optional "# note".
export function parseExceptions(text) {
  const out = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const [body, ...note] = raw.split('#');
    const line = body.trim();
    if (!line) continue;
    const m = line.match(/^(\d{4}-\d{2}-\d{2})\s+(.+)$/);
    if (!m) throw new Error(t('offers.badException', { n: i + 1 }));
    const e = { date: m[1] };
    if (/^(closed|fermé)$/i.test(m[2].trim())) e.closed = true;
    else e.hours = list(m[2]);
    if (note.length && note.join('#').trim()) e.note = note.join('#').trim();
    out.push(e);
  }
  return out;
}

// fenceBody builds the JSON the server takes from the form, or throws with
// what is wrong.
export function fenceBody(f) {
  const body = { name: f.name.trim(), tags: list(f.tags), time_zone: f.time_zone.trim() };
  if (f.shape === 'circle') {
    body.geometry = { type: 'Point', coordinates: [Number(f.lon), Number(f.lat)] };
    body.radius_m = Number(f.radius);
  } else {
    body.geometry = parsePolygon(f.polygon);
  }
  if (!f.always) {
    body.hours = {};
    for (const d of DAYS) {
      const spans = list(f.hours[d] || '');
      if (spans.length) body.hours[d] = spans;
    }
  }
  const exc = parseExceptions(f.exceptions);
  if (exc.length) body.exceptions = exc;
  return body;
}

// previewGeometry is the form's shape as far as it parses, for the sketch.
function previewGeometry(f) {
  try {
    if (f.shape === 'circle') {
      if (f.lat === '' || f.lon === '') return null;
      return { type: 'Point', coordinates: [Number(f.lon), Number(f.lat)] };
    }
    return parsePolygon(f.polygon);
  } catch { return null; }
}

function hoursSummary(f) {
  if (!f.hours) return t('offers.alwaysOpen');
  const days = DAYS.filter((d) => f.hours[d]?.length);
  if (!days.length) return t('offers.neverOpen');
  return days.map((d) => `${t('day.' + d)} ${f.hours[d].join(', ')}`).join(' · ');
}

function Fences({ fences, manage, onChange }) {
  const [form, setForm] = useState(EMPTY_FENCE);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState('');
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const setDay = (d) => (e) => setForm({ ...form, hours: { ...form.hours, [d]: e.target.value } });
  const geometry = useMemo(() => previewGeometry(form), [form.shape, form.lat, form.lon, form.polygon]);
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    setDone('');
    try {
      const body = fenceBody(form);
      const saved = form.id ? await api('PUT', '/geofences/' + form.id, body) : await post('/geofences', body);
      setDone(t(form.id ? 'offers.fenceUpdated' : 'offers.fenceCreated', { name: saved.name, id: saved.id }));
      setForm(EMPTY_FENCE);
      setOpen(false);
      onChange();
    } catch (err) { setError(err); }
  };
  const remove = async (f) => {
    if (!confirm(t('offers.confirmDelete', { name: f.name }))) return;
    try { await api('DELETE', '/geofences/' + f.id); onChange(); } catch (err) { setError(err); }
  };
  return html`<section class="card" id="fences">
    <h2>${t('offers.fences')}</h2>
    ${fences === null ? html`<p class="muted">${t('app.loading')}</p>` : fences.length === 0 ? html`<p class="muted">${t('offers.noFences')}</p>` : html`
      <ul class="fence-list">${fences.map((f) => html`<li class="fence-row" data-fence=${f.id}>
        <${FenceSketch} geometry=${f.geometry} radius=${f.radius_m} size=${64} />
        <div class="fence-info">
          <strong>${f.name}</strong> <span class="muted">#${f.id}</span>
          <div class="muted small">${f.geometry.type === 'Point' ? t('offers.circleOf', { r: metres(f.radius_m) }) : t('offers.polygonOf', { n: (f.geometry.coordinates?.[0]?.length || 1) - 1 })} · ${f.time_zone}</div>
          <div class="small">${hoursSummary(f)}${f.exceptions?.length ? ' · ' + tn('offers.exceptionsN', f.exceptions.length) : ''}</div>
          ${f.tags?.length ? html`<div class="badges">${f.tags.map((g) => html`<span class="badge tag">${g}</span>`)}</div>` : null}
        </div>
        ${manage && html`<div class="nowrap"><button class="btn small" data-edit onClick=${() => { setForm(fenceForm(f)); setDone(''); setOpen(true); }}>${t('admin.edit')}</button>
          <button class="btn small" data-delete onClick=${() => remove(f)}>${t('admin.delete')}</button></div>`}
      </li>`)}</ul>`}
    ${manage && !open && html`<div class="form-foot add-row"><button class="btn" id="fence-new" onClick=${() => { setForm(EMPTY_FENCE); setOpen(true); setError(null); }}>+ ${t('offers.newFence')}</button>
      ${done && html`<p class="ok" role="status">${done}</p>`}</div>`}
    ${manage && open && html`<form class="inline-form fence-form" onSubmit=${save} aria-label=${form.id ? t('offers.editFence', { id: form.id }) : t('offers.newFence')}>
      <h3>${form.id ? t('offers.editFence', { id: form.id }) : t('offers.newFence')}</h3>
      <div class="fence-fields">
        <label class="grow"><span>${t('admin.name')}</span><input id="fence-name" required value=${form.name} onInput=${set('name')} /></label>
        <label class="grow"><span>${t('offers.tags')}</span><input id="fence-tags" value=${form.tags} onInput=${set('tags')} placeholder="paris, station" /></label>
        <label><span>${t('offers.timeZone')}</span><input id="fence-tz" required value=${form.time_zone} onInput=${set('time_zone')} size="14" /></label>
        <fieldset class="shape-pick"><legend>${t('offers.shape')}</legend>
          <label class="switch"><input type="radio" name="shape" value="circle" checked=${form.shape === 'circle'} onChange=${set('shape')} /> ${t('offers.circle')}</label>
          <label class="switch"><input type="radio" name="shape" value="polygon" id="fence-polygon-mode" checked=${form.shape === 'polygon'} onChange=${set('shape')} /> ${t('offers.polygon')}</label>
        </fieldset>
        ${form.shape === 'circle' ? html`
          <label><span>${t('offers.lat')}</span><input id="fence-lat" type="number" step="any" min="-90" max="90" required value=${form.lat} onInput=${set('lat')} size="10" /></label>
          <label><span>${t('offers.lon')}</span><input id="fence-lon" type="number" step="any" min="-180" max="180" required value=${form.lon} onInput=${set('lon')} size="10" /></label>
          <label><span>${t('offers.radius')}</span><input id="fence-radius" type="number" min="1" max="50000" step="any" required value=${form.radius} onInput=${set('radius')} size="7" /></label>`
        : html`<label class="full"><span>${t('offers.geojson')}</span><textarea id="fence-geojson" class="code" rows="4" spellcheck="false" required value=${form.polygon} onInput=${set('polygon')}
            placeholder='{"type":"Polygon","coordinates":[[[2.3730,48.8443],[2.3770,48.8443],[2.3770,48.8460],[2.3730,48.8460],[2.3730,48.8443]]]}'></textarea></label>`}
        <fieldset class="hours full"><legend>${t('offers.hours')}</legend>
          <label class="switch"><input type="checkbox" id="fence-always" checked=${form.always} onChange=${set('always')} /> ${t('offers.alwaysOpen')}</label>
          ${!form.always && html`<div class="days">${DAYS.map((d) => html`<label><span>${t('day.' + d)}</span><input id=${'fence-hours-' + d} value=${form.hours[d]} onInput=${setDay(d)} placeholder="09:00-19:00" /></label>`)}</div>
            <p class="muted small">${t('offers.hoursHint')}</p>`}
        </fieldset>
        <label class="full"><span>${t('offers.exceptions')}</span><textarea id="fence-exceptions" rows="2" value=${form.exceptions} onInput=${set('exceptions')} placeholder=${t('offers.exceptionsHint')}></textarea></label>
      </div>
      <figure class="fence-preview"><${FenceSketch} geometry=${geometry} radius=${form.radius} size=${170} id="fence-sketch" /><figcaption class="muted small">${t('offers.sketchNote')}</figcaption></figure>
      <div class="form-foot full">
        <button class="btn primary" type="submit" id="fence-save">${form.id ? t('admin.save') : t('admin.create')}</button>
        <button class="btn" type="button" onClick=${() => { setForm(EMPTY_FENCE); setOpen(false); }}>${t('ticket.cancel')}</button>
        <${ErrorNote} error=${error} />
        ${done && html`<p class="ok" role="status">${done}</p>`}
      </div>
    </form>`}
  </section>`;
}

// ---- Campaigns ----

const EMPTY_CAMPAIGN = {
  id: 0, name: '', paused: false, priority: '0', fences: [], fence_tags: '', template: '', code: '', fallback_name: '',
  min_influence: '0', audience_tags: '', trigger: 'enter', dwell: '10', start_at: '', end_at: '', days: [],
  opening_hours_only: false, quiet_hours: '', per_user: '1', window_hours: '0', total: '0',
};

// localInput formats a time for a datetime-local input, in local time.
function localInput(s) {
  if (!s) return '';
  const d = new Date(s);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function campaignForm(c) {
  return {
    id: c.id, name: c.name, paused: !!c.paused, priority: String(c.priority || 0), fences: c.fences || [],
    fence_tags: (c.fence_tags || []).join(', '), template: c.offer.template, code: c.offer.code || '',
    fallback_name: c.offer.fallback_name || '', min_influence: String(c.audience?.min_influence || 0),
    audience_tags: (c.audience?.tags || []).join(', '), trigger: c.trigger?.kind || 'enter', dwell: String(c.trigger?.dwell_minutes || 10),
    start_at: localInput(c.schedule?.start_at), end_at: localInput(c.schedule?.end_at), days: c.schedule?.days || [],
    opening_hours_only: !!c.schedule?.opening_hours_only, quiet_hours: c.schedule?.quiet_hours || '',
    per_user: String(c.cap?.per_user || 1), window_hours: String(c.cap?.window_hours || 0), total: String(c.cap?.total || 0),
  };
}

export function campaignBody(f) {
  const int = (s) => (s === '' ? 0 : Math.trunc(Number(s)));
  const body = {
    name: f.name.trim(), paused: f.paused, priority: int(f.priority), fences: f.fences, fence_tags: list(f.fence_tags),
    offer: { template: f.template, code: f.code.trim(), fallback_name: f.fallback_name.trim() },
    audience: { min_influence: int(f.min_influence), tags: list(f.audience_tags) },
    trigger: { kind: f.trigger },
    schedule: { days: f.days, opening_hours_only: f.opening_hours_only, quiet_hours: f.quiet_hours.trim() },
    cap: { per_user: int(f.per_user), window_hours: int(f.window_hours), total: int(f.total) },
  };
  if (f.trigger === 'dwell') body.trigger.dwell_minutes = int(f.dwell);
  if (f.start_at) body.schedule.start_at = new Date(f.start_at).toISOString();
  if (f.end_at) body.schedule.end_at = new Date(f.end_at).toISOString();
  return body;
}

function Campaigns({ fences, manage }) {
  const [items, setItems] = useState(null);
  const [tick, setTick] = useState(0);
  const [form, setForm] = useState(EMPTY_CAMPAIGN);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState('');
  useEffect(() => { get('/campaigns').then((r) => setItems(r.campaigns || []), setError); }, [tick]);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const toggleIn = (k, v) => setForm({ ...form, [k]: form[k].includes(v) ? form[k].filter((x) => x !== v) : [...form[k], v] });
  const fenceName = (id) => fences.find((f) => f.id === id)?.name || '#' + id;
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    setDone('');
    try {
      const body = campaignBody(form);
      const saved = form.id ? await api('PUT', '/campaigns/' + form.id, body) : await post('/campaigns', body);
      setDone(t(form.id ? 'offers.campaignUpdated' : 'offers.campaignCreated', { name: saved.name }));
      setForm(EMPTY_CAMPAIGN);
      setOpen(false);
      setTick(tick + 1);
    } catch (err) { setError(err); }
  };
  const pause = async (c) => {
    try { await api('PUT', '/campaigns/' + c.id, campaignBody({ ...campaignForm(c), paused: !c.paused })); setTick(tick + 1); } catch (err) { setError(err); }
  };
  const remove = async (c) => {
    if (!confirm(t('offers.confirmDelete', { name: c.name }))) return;
    try { await api('DELETE', '/campaigns/' + c.id); setTick(tick + 1); } catch (err) { setError(err); }
  };
  return html`<section class="card" id="campaigns">
    <h2>${t('offers.campaigns')}</h2>
    ${items === null ? html`<p class="muted">${t('app.loading')}</p>` : items.length === 0 ? html`<p class="muted">${t('offers.noCampaigns')}</p>` : html`
      <table class="table"><thead><tr><th scope="col">${t('admin.name')}</th><th scope="col">${t('offers.where')}</th><th scope="col">${t('offers.offer')}</th><th scope="col">${t('admin.state')}</th><th></th></tr></thead>
      <tbody>${items.map((c) => html`<tr data-campaign=${c.id}>
        <th scope="row">${c.name}<div class="muted small">${c.trigger?.kind === 'dwell' ? t('offers.dwellN', { n: c.trigger.dwell_minutes }) : t('offers.onEnter')}${c.priority ? ' · P' + c.priority : ''}</div></th>
        <td>${[...(c.fences || []).map(fenceName), ...(c.fence_tags || []).map((g) => '#' + g)].join(', ')}</td>
        <td class="template">${c.offer.template}${c.offer.code ? html` <code>${c.offer.code}</code>` : null}</td>
        <td>${c.paused ? html`<span class="badge off">${t('offers.paused')}</span>` : html`<span class="badge st-open">${t('admin.active')}</span>`}</td>
        <td class="nowrap">${manage && html`<button class="btn small" onClick=${() => pause(c)}>${c.paused ? t('offers.resume') : t('offers.pause')}</button>
          <button class="btn small" onClick=${() => { setForm(campaignForm(c)); setDone(''); setOpen(true); }}>${t('admin.edit')}</button>
          <button class="btn small" onClick=${() => remove(c)}>${t('admin.delete')}</button>`}</td></tr>`)}</tbody></table>`}
    ${manage && !open && html`<div class="form-foot add-row"><button class="btn" id="campaign-new" onClick=${() => { setForm(EMPTY_CAMPAIGN); setOpen(true); setError(null); }}>+ ${t('offers.newCampaign')}</button>
      ${done && html`<p class="ok" role="status">${done}</p>`}</div>`}
    ${manage && open && html`<form class="inline-form" onSubmit=${save} aria-label=${form.id ? t('offers.editCampaign', { id: form.id }) : t('offers.newCampaign')}>
      <h3>${form.id ? t('offers.editCampaign', { id: form.id }) : t('offers.newCampaign')}</h3>
      <label class="grow"><span>${t('admin.name')}</span><input id="campaign-name" required value=${form.name} onInput=${set('name')} /></label>
      <label><span>${t('offers.priority')}</span><input type="number" value=${form.priority} onInput=${set('priority')} size="4" /></label>
      <label class="switch"><input type="checkbox" checked=${form.paused} onChange=${set('paused')} /> ${t('offers.paused')}</label>
      <fieldset class="full"><legend>${t('offers.where')}</legend>
        <div class="checks">${fences.map((f) => html`<label class="switch"><input type="checkbox" data-fence-pick=${f.id} checked=${form.fences.includes(f.id)} onChange=${() => toggleIn('fences', f.id)} /> ${f.name}</label>`)}</div>
        <label class="grow"><span>${t('offers.fenceTags')}</span><input id="campaign-fence-tags" value=${form.fence_tags} onInput=${set('fence_tags')} /></label>
      </fieldset>
      <label class="full"><span>${t('offers.template')}</span><textarea id="campaign-template" required rows="2" maxlength="640" value=${form.template} onInput=${set('template')} placeholder=${t('offers.templateHint')}></textarea></label>
      <label><span>${t('offers.code')}</span><input id="campaign-code" value=${form.code} onInput=${set('code')} size="10" /></label>
      <label><span>${t('offers.fallbackName')}</span><input value=${form.fallback_name} onInput=${set('fallback_name')} size="10" /></label>
      <label><span>${t('offers.minInfluence')}</span><input type="number" min="0" max="100" value=${form.min_influence} onInput=${set('min_influence')} size="4" /></label>
      <label class="grow"><span>${t('offers.audienceTags')}</span><input value=${form.audience_tags} onInput=${set('audience_tags')} /></label>
      <label><span>${t('offers.trigger')}</span><select value=${form.trigger} onChange=${set('trigger')}><option value="enter">${t('offers.onEnter')}</option><option value="dwell">${t('offers.dwell')}</option></select></label>
      ${form.trigger === 'dwell' && html`<label><span>${t('offers.dwellMinutes')}</span><input type="number" min="1" max="1440" value=${form.dwell} onInput=${set('dwell')} size="5" /></label>`}
      <label><span>${t('offers.startAt')}</span><input type="datetime-local" value=${form.start_at} onInput=${set('start_at')} /></label>
      <label><span>${t('offers.endAt')}</span><input type="datetime-local" value=${form.end_at} onInput=${set('end_at')} /></label>
      <fieldset><legend>${t('offers.days')}</legend><div class="checks">${DAYS.map((d) => html`<label class="switch"><input type="checkbox" checked=${form.days.includes(d)} onChange=${() => toggleIn('days', d)} /> ${t('day.' + d)}</label>`)}</div></fieldset>
      <label class="switch"><input type="checkbox" checked=${form.opening_hours_only} onChange=${set('opening_hours_only')} /> ${t('offers.openingHoursOnly')}</label>
      <label><span>${t('offers.quietHours')}</span><input value=${form.quiet_hours} onInput=${set('quiet_hours')} placeholder="21:00-08:00" size="11" /></label>
      <label><span>${t('offers.capPerUser')}</span><input type="number" min="0" value=${form.per_user} onInput=${set('per_user')} size="4" /></label>
      <label><span>${t('offers.capWindow')}</span><input type="number" min="0" value=${form.window_hours} onInput=${set('window_hours')} size="5" /></label>
      <label><span>${t('offers.capTotal')}</span><input type="number" min="0" value=${form.total} onInput=${set('total')} size="6" /></label>
      <div class="form-foot full">
        <button class="btn primary" type="submit" id="campaign-save">${form.id ? t('admin.save') : t('admin.create')}</button>
        <button class="btn" type="button" onClick=${() => { setForm(EMPTY_CAMPAIGN); setOpen(false); }}>${t('ticket.cancel')}</button>
        <${ErrorNote} error=${error} />
        ${done && html`<p class="ok" role="status">${done}</p>`}
      </div>
    </form>`}
  </section>`;
}

// ---- Decisions and their KPIs ----

// tally counts the decisions: sent, skipped by reason, delivered, dead,
// redeemed.
export function tally(ds) {
  const k = { total: ds.length, sent: 0, skipped: 0, reasons: {}, delivered: 0, dead: 0, redeemed: 0 };
  for (const d of ds) {
    if (d.status === 'sent') k.sent++;
    else { k.skipped++; k.reasons[d.reason] = (k.reasons[d.reason] || 0) + 1; }
    if (d.delivery === 'delivered') k.delivered++;
    if (d.delivery === 'dead') k.dead++;
    if (d.redeemed_at) k.redeemed++;
  }
  return k;
}

function Kpis() {
  const [k, setK] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let cancelled = false;
    (async () => {
      const all = [];
      let cursor = '', pages = 0;
      do {
        const p = await get('/offers' + qs({ limit: 500, cursor }));
        all.push(...p.offers);
        cursor = p.next_cursor || '';
        pages++;
      } while (cursor && pages < KPI_PAGES);
      if (!cancelled) setK({ ...tally(all), partial: !!cursor });
    })().catch((e) => { if (!cancelled) setError(e); });
    return () => { cancelled = true; };
  }, []);
  if (error) return html`<${ErrorNote} error=${error} />`;
  if (!k) return html`<p class="muted">${t('app.loading')}</p>`;
  const reasons = Object.entries(k.reasons).sort((a, b) => b[1] - a[1]);
  const rate = k.delivered ? k.redeemed / k.delivered : null;
  return html`<div>
    <div class="tiles" id="offer-tiles">
      <div class="tile"><span class="tile-label">${t('offers.kpiSent')}</span><span class="tile-value" data-kpi="sent">${num(k.sent)}</span></div>
      <div class="tile"><span class="tile-label">${t('offers.kpiDelivered')}</span><span class="tile-value">${num(k.delivered)}</span></div>
      <div class="tile"><span class="tile-label">${t('offers.kpiRedeemed')}</span><span class="tile-value" data-kpi="redeemed">${num(k.redeemed)}${rate != null ? html` <small class="muted">${num(rate, { style: 'percent', maximumFractionDigits: 0 })}</small>` : null}</span></div>
      <div class=${'tile' + (k.dead ? ' tile-bad' : '')}><span class="tile-label">${t('offers.kpiDead')}</span><span class="tile-value">${num(k.dead)}</span></div>
      <div class="tile tile-wide"><span class="tile-label">${t('offers.kpiSkipped', { n: num(k.skipped) })}</span>
        ${reasons.length ? html`<ul class="reason-bars">${reasons.map(([r, n]) => html`<li><span>${t('reason.' + r)}</span><span class="hbar s" style=${`width:${(n / reasons[0][1]) * 100}%`}></span><strong>${num(n)}</strong></li>`)}</ul>`
          : html`<span class="tile-value">0</span>`}</div>
    </div>
    <p class="muted small">${t(k.partial ? 'offers.kpiPartial' : 'offers.kpiAll', { n: num(k.total) })}</p>
  </div>`;
}

function Decisions({ manage }) {
  const [filter, setFilter] = useState({ status: '', reason: '', delivery: '' });
  const [rows, setRows] = useState(null);
  const [cursor, setCursor] = useState('');
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0);
  // Each load gets a number: an answer for filters that have changed since
  // is dropped, so it never overwrites the newer list.
  const seq = useRef(0);
  const load = async (more) => {
    const n = ++seq.current;
    try {
      const p = await get('/offers' + qs({ ...filter, limit: 50, cursor: more ? cursor : '' }));
      if (n !== seq.current) return;
      setRows((prev) => (more ? [...(prev || []), ...p.offers] : p.offers));
      setCursor(p.next_cursor || '');
      setError(null);
    } catch (e) { if (n === seq.current) setError(e); }
  };
  useEffect(() => { load(false); }, [filter.status, filter.reason, filter.delivery, tick]);
  const set = (k) => (e) => setFilter({ ...filter, [k]: e.target.value, ...(k === 'status' && e.target.value === 'sent' ? { reason: '' } : {}) });
  const retry = async (d) => {
    try { await post(`/offers/${d.id}/retry`); setTick(tick + 1); } catch (e) { setError(e); }
  };
  return html`<section class="card" id="decisions">
    <h2>${t('offers.decisions')}</h2>
    <div class="filters flat">
      <label><span>${t('badge.status')}</span><select id="offers-status" value=${filter.status} onChange=${set('status')}>
        <option value="">${t('filter.all')}</option><option value="sent">${t('offers.status.sent')}</option><option value="skipped">${t('offers.status.skipped')}</option></select></label>
      <label><span>${t('offers.reason')}</span><select id="offers-reason" value=${filter.reason} onChange=${set('reason')} disabled=${filter.status === 'sent'}>
        <option value="">${t('filter.all')}</option>${REASONS.map((r) => html`<option value=${r}>${t('reason.' + r)}</option>`)}</select></label>
      <label><span>${t('offers.delivery')}</span><select id="offers-delivery" value=${filter.delivery} onChange=${set('delivery')}>
        <option value="">${t('filter.all')}</option>${DELIVERIES.map((d) => html`<option value=${d}>${t('odelivery.' + d)}</option>`)}</select></label>
    </div>
    <${ErrorNote} error=${error} />
    ${rows === null ? html`<p class="muted">${t('app.loading')}</p>` : rows.length === 0 ? html`<${Empty}>${t('offers.noDecisions')}</${Empty}>` : html`
      <table class="table" id="decision-table"><thead><tr><th scope="col">${t('offers.when')}</th><th scope="col">${t('offers.person')}</th><th scope="col">${t('offers.store')}</th>
        <th scope="col">${t('badge.status')}</th><th scope="col">${t('offers.delivery')}</th><th scope="col">${t('offers.text')}</th><th></th></tr></thead>
      <tbody>${rows.map((d) => html`<tr data-decision=${d.id}>
        <td class="nowrap">${dateTime(d.at)}</td>
        <td>${d.handle || d.user_id} <span class="muted small">${d.source}</span></td>
        <td>${d.store}</td>
        <td>${d.status === 'sent' ? html`<span class="badge st-open">${t('offers.status.sent')}</span>` : html`<span class="badge off" title=${t('offers.reason')}>${t('reason.' + d.reason)}</span>`}</td>
        <td><span class=${'badge od-' + d.delivery} title=${d.last_error || ''}>${t('odelivery.' + d.delivery)}</span>${d.attempts > 1 ? html` <span class="muted small" title=${t('offers.attempts')}>×${d.attempts}</span>` : null}
          ${d.redeemed_at ? html` <span class="badge redeemed">${t('offers.redeemed')}</span>` : null}</td>
        <td class="template">${d.text || ''}${d.last_error && d.delivery !== 'delivered' ? html`<div class="error-text">${d.last_error}</div>` : null}</td>
        <td>${manage && (d.delivery === 'dead' || d.delivery === 'cancelled') && html`<button class="btn small" onClick=${() => retry(d)}>${t('offers.retry')}</button>`}</td>
      </tr>`)}</tbody></table>
      ${cursor && html`<div class="more"><button class="btn ghost" onClick=${() => load(true)}>${t('console.more')}</button></div>`}`}
  </section>`;
}
