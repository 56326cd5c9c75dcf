// chart — small SVG charts: a sparkline for a list row and a bar chart with
// labelled axes. Values are counts (non-negative).
import {svg, h} from './dom.js';

export function sparkline(values, label, width = 120, height = 24) {
  const vals = values || [];
  const max = Math.max(1, ...vals);
  const w = width / Math.max(1, vals.length);
  const bars = vals.map((v, i) => {
    const bh = v ? Math.max(1.5, (v / max) * (height - 2)) : 0;
    return svg('rect', {x: (i * w + 0.5).toFixed(1), y: (height - bh).toFixed(1), width: Math.max(1, w - 1).toFixed(1), height: bh.toFixed(1), class: 'bar'});
  });
  const base = svg('line', {x1: 0, x2: width, y1: height - 0.5, y2: height - 0.5, class: 'axis'});
  return svg('svg', {viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': `${label}: ${vals.join(', ')}`, class: 'sparkline'},
    svg('title', {}, label), base, ...bars);
}

// labels: one per value (shown under every nth bar).
export function barChart(values, labels, title) {
  const width = 1000, height = 150, left = 36, bottom = 20;
  const max = Math.max(1, ...values);
  const w = (width - left) / Math.max(1, values.length);
  const plot = height - bottom;
  const parts = [
    svg('line', {x1: left, x2: width, y1: plot + 0.5, y2: plot + 0.5, class: 'axis'}),
    svg('text', {x: left - 4, y: 10, class: 'tick', 'text-anchor': 'end'}, String(max)),
    svg('text', {x: left - 4, y: plot, class: 'tick', 'text-anchor': 'end'}, '0'),
  ];
  values.forEach((v, i) => {
    const bh = v ? Math.max(1.5, (v / max) * (plot - 4)) : 0;
    const rect = svg('rect', {x: (left + i * w + 1).toFixed(1), y: (plot - bh).toFixed(1), width: Math.max(1, w - 2).toFixed(1), height: bh.toFixed(1), class: 'bar'},
      svg('title', {}, `${labels[i]}: ${v}`));
    parts.push(rect);
    if (i % Math.ceil(values.length / 7) === 0)
      parts.push(svg('text', {x: (left + i * w + w / 2).toFixed(1), y: height - 4, class: 'tick', 'text-anchor': 'middle'}, labels[i]));
  });
  return h('figure', {class: 'chart'},
    svg('svg', {viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${title}: ${values.join(', ')}`}, ...parts),
    h('figcaption', {class: 'muted'}, title));
}
