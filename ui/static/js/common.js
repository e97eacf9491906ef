// Small pieces shared by the pages.
import { html, useState, useEffect } from './html.js';
import { t, num } from './i18n.js';

// useNow re-renders every period milliseconds and returns the time.
export function useNow(period = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), period);
    return () => clearInterval(id);
  }, [period]);
  return now;
}

// sentimentBand matches the search facet's bands.
export function sentimentBand(s) {
  if (s == null) return 'neutral';
  if (s < -0.05) return 'negative';
  if (s > 0.05) return 'positive';
  return 'neutral';
}

export function SentimentBadge({ value }) {
  const band = sentimentBand(value);
  const v = value == null ? '' : ` ${value > 0 ? '+' : ''}${num(value, { maximumFractionDigits: 2 })}`;
  return html`<span class=${'badge s-' + band} title=${t('badge.sentiment')}>${t('sentiment.' + band)}${v}</span>`;
}

export function PriorityBadge({ value }) {
  const p = value || 'normal';
  return html`<span class=${'badge p-' + p} title=${t('badge.priority')}>${t('priority.' + p)}</span>`;
}

export function StatusBadge({ value }) {
  return html`<span class=${'badge st-' + value} title=${t('badge.status')}>${t('status.' + value)}</span>`;
}

// SlaBadge marks a ticket whose SLA is at risk or missed; other states
// need no attention in a list.
export function SlaBadge({ value }) {
  if (value !== 'at_risk' && value !== 'missed') return null;
  return html`<span class=${'badge sla-' + value} title=${t('badge.sla')}>${t('sla.state.' + value)}</span>`;
}

export function IntentBadge({ value }) {
  if (!value) return null;
  return html`<span class="badge intent" title=${t('badge.intent')}>${t('intent.' + value)}</span>`;
}

export function LangBadge({ value }) {
  if (!value) return null;
  return html`<span class="badge lang" title=${t('badge.lang')}>${value === 'und' ? '?' : value.toUpperCase()}</span>`;
}

export function SourceTag({ value }) {
  return html`<span class=${'source src-' + value}>${value}</span>`;
}

export function Empty({ children }) {
  return html`<div class="empty">${children}</div>`;
}

export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.message || String(error)}</p>`;
}

export function authorLabel(a) {
  if (!a) return '';
  return a.name || a.handle || a.id;
}

// decodeEntities undoes the HTML escaping of a highlight fragment: named
// entities of markup and numeric ones.
const ENTITIES = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
export function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|lt|gt|amp|quot|apos);/gi, (m, e) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(n) && n <= 0x10ffff ? String.fromCodePoint(n) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

// Highlight renders a search highlight fragment (HTML-escaped text with
// <mark> around matches) as text and <mark> elements: nothing from the
// server is ever parsed as markup.
export function Highlight({ fragment }) {
  const out = [];
  let marked = false;
  for (const p of fragment.split(/(<mark>|<\/mark>)/)) {
    if (p === '<mark>') { marked = true; continue; }
    if (p === '</mark>') { marked = false; continue; }
    const text = decodeEntities(p);
    out.push(marked ? html`<mark>${text}</mark>` : text);
  }
  return html`<span>${out}</span>`;
}
