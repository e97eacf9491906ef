// The agents' console: queues, the live ticket list, and the open ticket.
import { html, useState, useEffect, useRef, useCallback } from './html.js';
import { t, tn, duration, ago } from './i18n.js';
import { get, post, qs } from './api.js';
import { navigate } from './route.js';
import { useNow, SlaBadge, PriorityBadge, StatusBadge, SentimentBadge, SourceTag, Empty, ErrorNote, authorLabel } from './common.js';
import { TicketView } from './ticket.js';

const PAGE = 50;

// BULK is the most tickets one bulk call takes (desk.MaxBulk); a larger
// selection goes in several calls.
const BULK = 500;

// The list's views, and how each maps onto GET /tickets filters.
const VIEWS = ['open', 'mine', 'pending', 'resolved', 'all'];

// The SLA states a list can be narrowed to, when the desk keeps SLA clocks.
const SLA_CHIPS = ['at_risk', 'missed'];

function filterParams(view, queue, me, sla) {
  const p = { queue, limit: PAGE, sla };
  if (view === 'mine') Object.assign(p, { assignee: me, status: 'assigned' });
  else if (view !== 'all') p.status = view;
  return p;
}

// matches says whether a ticket belongs in the list the filters describe,
// so that live updates can add, keep or remove it without a reload.
function matches(tk, view, queue, me, sla) {
  if (queue && tk.queue !== queue) return false;
  if (sla && tk.sla_status !== sla) return false;
  switch (view) {
    case 'mine': return tk.assignee === me && tk.status === 'assigned';
    case 'all': return true;
    default: return tk.status === view;
  }
}

const ALERT_KEY = 'vigie.alerts';

function beep() {
  try {
    const ctx = new AudioContext();
    const o = ctx.createOscillator();
    const g = ctx.createGain();
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.15, ctx.currentTime);
    g.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.4);
    o.connect(g).connect(ctx.destination);
    o.start();
    o.stop(ctx.currentTime + 0.4);
  } catch { /* no audio */ }
}

export function Console({ route, session, perms, live }) {
  const me = session.user;
  const [queues, setQueues] = useState([]);
  const [queuesAt, setQueuesAt] = useState(Date.now());
  const [queue, setQueue] = useState(route.params.get('queue') || '');
  const [view, setView] = useState(route.params.get('view') || 'open');
  const [sla, setSla] = useState(route.params.get('sla') || '');
  // slaKnown: the desk keeps SLA clocks (its tickets carry sla_status), so
  // it also filters by them.
  const [slaKnown, setSlaKnown] = useState(!!route.params.get('sla'));
  const [tickets, setTickets] = useState([]);
  const [cursor, setCursor] = useState('');
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(null);
  const [fresh, setFresh] = useState(new Set());
  const [alerts, setAlerts] = useState(localStorage.getItem(ALERT_KEY) === 'on');
  const [help, setHelp] = useState(false);
  // picked: the tickets ticked for a bulk action; bulk: its outcome.
  const [picked, setPicked] = useState(new Set());
  const [bulk, setBulk] = useState(null);
  const [bulkBusy, setBulkBusy] = useState(false);
  const canBulk = perms.has('resolve');
  const selected = route.id ? Number(route.id) : 0;
  const now = useNow(1000);
  const state = useRef({});
  state.current = { queue, view, sla, tickets, cursor, alerts, selected, picked };

  const loadQueues = useCallback(async () => {
    try {
      setQueues(await get('/queues'));
      setQueuesAt(Date.now());
    } catch (e) { setError(e); }
  }, []);

  // Each load gets a number; a response that comes back after a newer load
  // started (the filters changed meanwhile) is dropped, so a slow answer for
  // the old filters never overwrites the list the new ones asked for.
  const loadSeq = useRef(0);
  const load = useCallback(async (more) => {
    const { queue: q, view: v, sla: s, cursor: c } = state.current;
    const seq = ++loadSeq.current;
    setLoading(true);
    try {
      const page = await get('/tickets' + qs({ ...filterParams(v, q, me, s), cursor: more ? c : '' }));
      if (seq !== loadSeq.current) return;
      if (page.tickets.some((x) => 'sla_status' in x)) setSlaKnown(true);
      setTickets((prev) => (more ? [...prev, ...page.tickets] : page.tickets));
      setCursor(page.next_cursor || '');
      setError(null);
      // A mark the browser tests read: the first page of tickets painted.
      if (!more) requestAnimationFrame(() => performance.mark('vigie:tickets'));
    } catch (e) {
      if (seq !== loadSeq.current) return;
      // A desk that cannot filter by SLA says so with a 400: drop the chips.
      if (e.status === 400 && s) { setSlaKnown(false); setSla(''); } else setError(e);
    }
    setLoading(false);
  }, [me]);

  useEffect(() => { load(false); }, [queue, view, sla]);

  // A ticket that leaves the list or is resolved (here or by someone
  // else) leaves the selection.
  useEffect(() => {
    setPicked((prev) => {
      if (!prev.size) return prev;
      const open = new Set(tickets.filter((x) => x.status !== 'resolved').map((x) => x.id));
      const next = new Set([...prev].filter((id) => open.has(id)));
      return next.size === prev.size ? prev : next;
    });
  }, [tickets]);
  const togglePick = (id) => setPicked((prev) => {
    const next = new Set(prev);
    if (!next.delete(id)) next.add(id);
    return next;
  });
  const resolvable = tickets.filter((x) => x.status !== 'resolved');
  const allPicked = resolvable.length > 0 && resolvable.every((x) => picked.has(x.id));
  const pickAll = () => setPicked(allPicked ? new Set() : new Set(resolvable.map((x) => x.id)));

  // resolvePicked resolves the selection, BULK tickets a call. Tickets an
  // error left as they were stay selected, to try again.
  const resolvePicked = async () => {
    const ids = [...state.current.picked];
    if (!ids.length) return;
    setBulkBusy(true);
    const sum = { done: 0, conflicts: 0, missing: 0, failed: [], error: null };
    for (let i = 0; i < ids.length; i += BULK) {
      const part = ids.slice(i, i + BULK);
      try {
        const out = await post('/tickets/resolve', { ids: part });
        sum.done += out.done.length;
        sum.conflicts += out.conflicts.length;
        sum.missing += out.not_found.length;
        if (out.failed?.length) {
          sum.failed.push(...out.failed, ...ids.slice(i + BULK));
          sum.error = out.error;
          break;
        }
      } catch (e) {
        sum.failed.push(...ids.slice(i));
        sum.error = e.message || String(e);
        break;
      }
    }
    setPicked(new Set(sum.failed));
    setBulk(sum);
    setBulkBusy(false);
  };
  useEffect(() => {
    loadQueues();
    const id = setInterval(loadQueues, 30000);
    return () => clearInterval(id);
  }, []);

  // Live updates: a ticket joins, changes in place, or leaves the list.
  useEffect(() => {
    let qTimer = 0;
    const refreshQueues = () => { clearTimeout(qTimer); qTimer = setTimeout(loadQueues, 1000); };
    const onTicket = (d, f) => {
      const tk = d.ticket;
      const s = state.current;
      setTickets((prev) => {
        const i = prev.findIndex((x) => x.id === tk.id);
        const keep = matches(tk, s.view, s.queue, me, s.sla);
        if (i >= 0) {
          if (!keep) return prev.filter((x) => x.id !== tk.id);
          const next = prev.slice();
          next[i] = tk;
          return next;
        }
        if (!keep) return prev;
        // Older than the last loaded ticket: it comes with the next page.
        if (s.cursor && prev.length && tk.id < prev[prev.length - 1].id) return prev;
        const next = [...prev, tk].sort((a, b) => b.id - a.id);
        return next;
      });
      if (f.type === 'ticket.created') {
        setFresh((prev) => new Set(prev).add(tk.id));
        setTimeout(() => setFresh((prev) => { const n = new Set(prev); n.delete(tk.id); return n; }), 4000);
        if (s.alerts && (tk.priority === 'high' || tk.priority === 'urgent')) {
          beep();
          if ('Notification' in window && Notification.permission === 'granted' && document.hidden) {
            new Notification(t('console.notifyTitle', { priority: t('priority.' + tk.priority), queue: tk.queue }), { body: authorLabel(tk.author), tag: 'vigie-' + tk.id });
          }
        }
      }
      refreshQueues();
    };
    const offs = [live.on('ticket.created', onTicket), live.on('ticket.updated', onTicket),
      live.on('resync', () => { load(false); loadQueues(); })];
    return () => { offs.forEach((o) => o()); clearTimeout(qTimer); };
  }, [live]);

  const open = (id) => navigate('console/' + id, { queue, view, sla });
  const move = (delta) => {
    const { tickets: list, selected: sel } = state.current;
    if (!list.length) return;
    let i = list.findIndex((x) => x.id === sel);
    i = i < 0 ? 0 : Math.min(list.length - 1, Math.max(0, i + delta));
    open(list[i].id);
    document.getElementById('tk-' + list[i].id)?.scrollIntoView({ block: 'nearest' });
  };

  useEffect(() => {
    const onKey = (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const tag = (e.target.tagName || '').toLowerCase();
      if (tag === 'input' || tag === 'textarea' || tag === 'select' || e.target.isContentEditable) return;
      if (e.key === 'j') { move(1); e.preventDefault(); }
      else if (e.key === 'k') { move(-1); e.preventDefault(); }
      else if (e.key === 'x' && canBulk) {
        const { tickets: list, selected: sel } = state.current;
        const tk = list.find((x) => x.id === sel);
        if (tk && tk.status !== 'resolved') { togglePick(tk.id); e.preventDefault(); }
      }
      else if (e.key === '?') { setHelp(true); e.preventDefault(); }
      else if (e.key === 'Escape') setHelp(false);
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const toggleAlerts = async () => {
    const on = !alerts;
    if (on && 'Notification' in window && Notification.permission === 'default') {
      try { await Notification.requestPermission(); } catch { /* sound only */ }
    }
    localStorage.setItem(ALERT_KEY, on ? 'on' : 'off');
    setAlerts(on);
  };

  // Infinite scroll: the next page loads when the end of the list shows.
  const sentinel = useRef(null);
  useEffect(() => {
    if (!sentinel.current || !cursor) return undefined;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((en) => en.isIntersecting) && !loading) load(true);
    });
    io.observe(sentinel.current);
    return () => io.disconnect();
  }, [cursor, loading]);

  const elapsed = (now - queuesAt) / 1000;
  const totalOpen = queues.reduce((n, q) => n + q.open, 0);
  return html`
    <div class="console">
      <aside class="queues" aria-label=${t('console.queues')}>
        <h2>${t('console.queues')}</h2>
        <ul>
          <li><button class=${'queue-btn' + (queue === '' ? ' active' : '')} onClick=${() => setQueue('')}>
            <span class="qname">${t('console.allQueues')}</span><span class="count">${totalOpen}</span>
          </button></li>
          ${queues.map((q) => html`<li><button class=${'queue-btn' + (queue === q.name ? ' active' : '')} data-queue=${q.name} onClick=${() => setQueue(q.name)}>
            <span class="qname">${q.name}</span>
            <span class="count" title=${t('console.openCount')}>${q.open}</span>
            <span class="wait">${q.open ? t('console.oldest', { d: duration(Math.round(q.oldest_wait_seconds + elapsed)) }) : t('console.noneWaiting')}</span>
          </button></li>`)}
        </ul>
        <div class="side-tools">
          <label class="switch"><input type="checkbox" id="alerts-toggle" checked=${alerts} onChange=${toggleAlerts} /> ${t('console.alertMe')}</label>
          <button class="link" onClick=${() => setHelp(true)}>${t('console.shortcuts')} <kbd>?</kbd></button>
        </div>
      </aside>
      <section class="tickets" aria-label=${t('console.tickets')}>
        <div class="tabs" role="tablist">
          ${VIEWS.map((v) => html`<button role="tab" aria-selected=${view === v} class=${view === v ? 'active' : ''} data-view=${v} onClick=${() => setView(v)}>${t('view.' + v)}</button>`)}
        </div>
        ${slaKnown && html`<div class="chips" role="group" aria-label=${t('console.slaFilter')}>
          ${SLA_CHIPS.map((c) => html`<button class=${'chip sla-' + c + (sla === c ? ' active' : '')} aria-pressed=${sla === c} data-sla-chip=${c} onClick=${() => setSla(sla === c ? '' : c)}>${t('sla.state.' + c)}</button>`)}
        </div>`}
        <${ErrorNote} error=${error} />
        ${canBulk && resolvable.length > 0 && html`<div class="bulk-bar" id="bulk-bar" role="toolbar" aria-label=${t('console.bulkActions')}>
          <label class="pick-all"><input type="checkbox" id="pick-all" checked=${allPicked} onChange=${pickAll} /> ${t('console.pickAll')}</label>
          ${picked.size > 0 && html`
            <span class="picked" id="picked-count">${tn('console.picked', picked.size)}</span>
            <button class="btn" id="resolve-picked" onClick=${resolvePicked} disabled=${bulkBusy}>${t('console.resolvePicked')}</button>
            <button class="link" id="clear-picked" onClick=${() => setPicked(new Set())} disabled=${bulkBusy}>${t('console.clearPicked')}</button>`}
        </div>`}
        ${bulk && html`<${BulkOutcome} sum=${bulk} onClose=${() => setBulk(null)} />`}
        <ul class="ticket-list" id="ticket-list" aria-live="polite" aria-busy=${loading}>
          ${tickets.map((tk) => html`<${TicketRow} key=${tk.id} tk=${tk} now=${now} active=${tk.id === selected} fresh=${fresh.has(tk.id)} onOpen=${open}
            pickable=${canBulk && tk.status !== 'resolved'} picked=${picked.has(tk.id)} onPick=${togglePick} />`)}
        </ul>
        ${!loading && !tickets.length && html`<${Empty}>${t('console.noTickets')}</${Empty}>`}
        ${cursor && html`<div ref=${sentinel} class="more"><button class="btn ghost" onClick=${() => load(true)} disabled=${loading}>${t('console.more')}</button></div>`}
        ${loading && html`<p class="muted center">${t('app.loading')}</p>`}
      </section>
      <section class="ticket-pane" aria-label=${t('ticket.label')}>
        ${selected ? html`<${TicketView} key=${selected} id=${selected} session=${session} perms=${perms} live=${live} now=${now} />`
          : html`<${Empty}><p>${t('console.pick')}</p><p class="muted">${t('console.pickHint')}</p></${Empty}>`}
      </section>
      ${help && html`<${Help} onClose=${() => setHelp(false)} />`}
    </div>`;
}

// BulkOutcome tells what a bulk resolve did, and what it could not.
function BulkOutcome({ sum, onClose }) {
  const parts = [tn('console.bulkResolved', sum.done)];
  if (sum.conflicts) parts.push(tn('console.bulkConflicts', sum.conflicts));
  if (sum.missing) parts.push(tn('console.bulkMissing', sum.missing));
  return html`<div class=${'bulk-outcome' + (sum.failed.length ? ' failed' : '')} id="bulk-outcome" role="status">
    <span>${parts.join(' · ')}</span>
    ${sum.failed.length > 0 && html`<span class="error" role="alert">${tn('console.bulkFailed', sum.failed.length, { error: sum.error })}</span>`}
    <button class="link" onClick=${onClose} aria-label=${t('help.close')}>×</button>
  </div>`;
}

function TicketRow({ tk, now, active, fresh, onOpen, pickable, picked, onPick }) {
  return html`<li id=${'tk-' + tk.id} class=${'ticket-row' + (active ? ' active' : '') + (fresh ? ' fresh' : '') + (picked ? ' picked' : '') + ' pr-' + (tk.priority || 'normal')}>
    ${pickable && html`<input type="checkbox" class="pick" data-pick=${tk.id} checked=${picked} onChange=${() => onPick(tk.id)} aria-label=${t('console.pickTicket', { id: tk.id })} />`}
    <a href=${'#/console/' + tk.id} onClick=${(e) => { e.preventDefault(); onOpen(tk.id); }} aria-current=${active ? 'true' : null}>
      <div class="row1">
        <span class="author">${authorLabel(tk.author)}</span>
        <span class="muted when" title=${tk.created_at}>${ago(tk.created_at, now)}</span>
      </div>
      <div class="row2">
        <${PriorityBadge} value=${tk.priority} />
        <${StatusBadge} value=${tk.status} />
        <${SlaBadge} value=${tk.sla_status} />
        <${SentimentBadge} value=${tk.sentiment} />
        <${SourceTag} value=${tk.source} />
        <span class="muted">${tk.queue}</span>
        ${tk.assignee && html`<span class="muted">→ ${tk.assignee}</span>`}
        <span class="muted right">#${tk.id} · ${tn('console.messages', tk.message_count)}</span>
      </div>
    </a>
  </li>`;
}

function Help({ onClose }) {
  const ref = useRef(null);
  useEffect(() => { ref.current?.showModal?.(); }, []);
  const keys = [['j', 'help.next'], ['k', 'help.prev'], ['c', 'help.claim'], ['r', 'help.reply'], ['n', 'help.note'], ['e', 'help.resolve'], ['x', 'help.pick'], ['Ctrl+Enter', 'help.send'], ['?', 'help.help'], ['Esc', 'help.close']];
  return html`<dialog ref=${ref} class="help" onClose=${onClose} aria-labelledby="help-title">
    <h2 id="help-title">${t('help.title')}</h2>
    <dl>${keys.map(([k, d]) => html`<div><dt><kbd>${k}</kbd></dt><dd>${t(d)}</dd></div>`)}</dl>
    <form method="dialog"><button class="btn primary" autofocus>${t('help.close')}</button></form>
  </dialog>`;
}
