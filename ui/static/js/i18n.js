// Strings of the interface, one dictionary per language in /assets/i18n.
// t(key, params) looks a key up in the current language, then in English;
// {name} placeholders are replaced by params.name.

export const LANGS = ['en', 'fr'];
const dicts = {};
let current = 'en';
const listeners = new Set();

export function initialLang() {
  const saved = localStorage.getItem('vigie.lang');
  if (LANGS.includes(saved)) return saved;
  return (navigator.language || 'en').toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

async function fetchDict(lang) {
  if (dicts[lang]) return;
  const r = await fetch(`/assets/i18n/${lang}.json`);
  if (!r.ok) throw new Error(`dictionary ${lang}: HTTP ${r.status}`);
  dicts[lang] = await r.json();
}

export async function setLang(lang) {
  if (!LANGS.includes(lang)) lang = 'en';
  await Promise.all([fetchDict('en'), fetchDict(lang)]);
  current = lang;
  localStorage.setItem('vigie.lang', lang);
  document.documentElement.lang = lang;
  listeners.forEach((f) => f(lang));
}

export function lang() { return current; }

export function onLang(f) { listeners.add(f); return () => listeners.delete(f); }

export function t(key, params) {
  let s = dicts[current]?.[key] ?? dicts.en?.[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

// tn picks key.one or key.other by the plural rules of the language.
export function tn(key, n, params) {
  const form = new Intl.PluralRules(current).select(n) === 'one' ? 'one' : 'other';
  return t(`${key}.${form}`, { n: num(n), ...params });
}

export function num(n, opts) { return new Intl.NumberFormat(current, opts).format(n); }

export function pct(x) { return x == null ? '–' : new Intl.NumberFormat(current, { style: 'percent', maximumFractionDigits: 0 }).format(x); }

export function dateTime(d) {
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(d));
}

export function time(d) {
  return new Intl.DateTimeFormat(current, { hour: '2-digit', minute: '2-digit' }).format(new Date(d));
}

// duration formats seconds as "45 s", "12 min", "3 h 05", "2 d 4 h".
export function duration(sec) {
  if (sec == null || !isFinite(sec)) return '–';
  sec = Math.max(0, sec);
  if (sec > 0 && sec < 1) return t('unit.ms', { n: Math.round(sec * 1000) });
  if (sec < 10 && sec !== Math.round(sec)) return t('unit.s', { n: num(sec, { maximumFractionDigits: 1 }) });
  sec = Math.round(sec);
  if (sec < 60) return t('unit.s', { n: sec });
  const m = Math.floor(sec / 60);
  if (m < 60) return t('unit.min', { n: m });
  const h = Math.floor(m / 60);
  if (h < 48) return t('unit.h', { h, m: String(m % 60).padStart(2, '0') });
  return t('unit.d', { d: Math.floor(h / 24), h: h % 24 });
}

// ago formats how long ago a time was, in words.
export function ago(d, now = Date.now()) {
  const sec = (now - new Date(d).getTime()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(current, { numeric: 'auto', style: 'short' });
  if (sec < 45) return rtf.format(-Math.max(0, Math.round(sec)), 'second');
  if (sec < 3600) return rtf.format(-Math.round(sec / 60), 'minute');
  if (sec < 86400 * 2) return rtf.format(-Math.round(sec / 3600), 'hour');
  return rtf.format(-Math.round(sec / 86400), 'day');
}
