// Time-series charts drawn by uPlot.
import uPlot from 'uplot';
import { html, useEffect, useRef } from './html.js';
import { lang } from './i18n.js';

export const PALETTE = ['#2563eb', '#db2777', '#16a34a', '#ea580c', '#7c3aed', '#0891b2', '#ca8a04', '#4b5563', '#dc2626', '#0d9488'];

// Chart draws x (Unix seconds) against series [{label, values, color,
// dash}], with the y axis formatted by yFmt. A click on the plot calls
// onPick with the index of the point under the cursor.
export function Chart({ id, label, x, series, yFmt = (v) => v, yRange, onPick, height = 220 }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const fmt = new Intl.DateTimeFormat(lang(), { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    const opts = {
      width: Math.max(280, el.clientWidth),
      height,
      legend: { live: true },
      cursor: { drag: { x: false, y: false }, focus: { prox: 16 } },
      scales: { x: { time: true }, y: yRange ? { range: yRange } : {} },
      axes: [
        { stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' } },
        { stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' }, values: (u, vals) => vals.map(yFmt), size: 60 },
      ],
      series: [
        { value: (u, v) => (v == null ? '–' : fmt.format(new Date(v * 1000))) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.color || PALETTE[i % PALETTE.length],
          width: 2,
          dash: s.dash,
          fill: s.fill,
          spanGaps: true,
          points: { show: x.length < 60, size: 5 },
          value: (u, v) => (v == null ? '–' : yFmt(v)),
        })),
      ],
    };
    const u = new uPlot(opts, [x, ...series.map((s) => s.values)], el);
    el.dataset.points = String(x.length);
    el.dataset.series = String(series.length);
    const onClick = () => { if (onPick && u.cursor.idx != null) onPick(u.cursor.idx); };
    u.over.addEventListener('click', onClick);
    u.over.style.cursor = onPick ? 'pointer' : '';
    const ro = new ResizeObserver(() => { if (el.clientWidth) u.setSize({ width: Math.max(280, el.clientWidth), height }); });
    ro.observe(el);
    return () => { ro.disconnect(); u.over.removeEventListener('click', onClick); u.destroy(); };
  }, [x, series, height, lang()]);
  return html`<figure class="chart" aria-label=${label}><div ref=${box} id=${id} class="chart-box" role="img" aria-label=${label}></div></figure>`;
}
