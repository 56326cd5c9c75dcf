// editor — a code editor for Lua without a library: a textarea over a
// highlighted copy of its text, with line numbers, Tab indenting and an
// error line marker.
import {h} from './dom.js';

const KEYWORDS = new Set(('and break do else elseif end false for function goto if in local nil not or repeat return then true until while').split(' '));
const TOKEN = /(--\[(=*)\[[\s\S]*?\]\2\]|--[^\n]*)|(\[(=*)\[[\s\S]*?\]\4\]|"(?:\\[\s\S]|[^"\\\n])*"?|'(?:\\[\s\S]|[^'\\\n])*'?)|(\b0[xX][0-9a-fA-F.]+(?:[pP][+-]?\d+)?|\b\d+\.?\d*(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)/g;

// Lua source → highlighted nodes (text only: no markup from the source).
export function highlight(src) {
  const out = [];
  let last = 0;
  for (const m of src.matchAll(TOKEN)) {
    if (m.index > last) out.push(document.createTextNode(src.slice(last, m.index)));
    let cls = null;
    if (m[1]) cls = 'tok-comment';
    else if (m[3]) cls = 'tok-string';
    else if (m[5]) cls = 'tok-number';
    else if (m[6]) cls = KEYWORDS.has(m[6]) ? 'tok-keyword' : (m[6] === 'periscope' ? 'tok-builtin' : null);
    out.push(cls ? h('span', {class: cls}, m[0]) : document.createTextNode(m[0]));
    last = m.index + m[0].length;
  }
  if (last < src.length) out.push(document.createTextNode(src.slice(last)));
  return out;
}

export function luaEditor({value = '', readOnly = false, label = 'Lua source'} = {}) {
  const gutter = h('div', {class: 'gutter', 'aria-hidden': 'true'});
  const code = h('code');
  const pre = h('pre', {class: 'hl', 'aria-hidden': 'true'}, code);
  const ta = h('textarea', {class: 'src', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off', wrap: 'off',
    'aria-label': label, readonly: readOnly || null, id: 'script-source'});
  ta.value = value;
  let errorLine = 0, painted = -1;
  const paint = () => {
    const text = ta.value;
    code.replaceChildren(...highlight(text.endsWith('\n') ? text + ' ' : text));
    const n = text.split('\n').length;
    if (gutter.childElementCount !== n || errorLine !== painted) {
      painted = errorLine;
      gutter.replaceChildren(...Array.from({length: n}, (_, i) => h('div', {class: i + 1 === errorLine ? 'err' : null}, String(i + 1))));
    }
  };
  const sync = () => { pre.scrollTop = ta.scrollTop; pre.scrollLeft = ta.scrollLeft; gutter.scrollTop = ta.scrollTop; };
  ta.addEventListener('input', paint);
  ta.addEventListener('scroll', sync);
  ta.addEventListener('keydown', (ev) => {
    if (ev.key === 'Tab' && !ev.shiftKey && !ev.ctrlKey && !ev.metaKey && !readOnly) {
      ev.preventDefault();
      ta.setRangeText('  ', ta.selectionStart, ta.selectionEnd, 'end');
      paint();
    }
    // Escape leaves the editor, so Tab is never a keyboard trap.
    if (ev.key === 'Escape') ta.blur();
  });
  const root = h('div', {class: 'editor'}, gutter, h('div', {class: 'pane'}, pre, ta));
  paint();
  return {
    el: root,
    get value() { return ta.value; },
    set value(v) { ta.value = v; paint(); },
    markError(line) {
      errorLine = line || 0;
      paint();
      if (errorLine) {
        const lh = parseFloat(getComputedStyle(ta).lineHeight) || 18;
        ta.scrollTop = Math.max(0, (errorLine - 5) * lh);
        sync();
      }
    },
    focus() { ta.focus(); },
  };
}

// A line diff (LCS) of two texts: [{op: ' ' | '-' | '+', text}].
export function diffLines(a, b) {
  const x = a.split('\n'), y = b.split('\n');
  if (x.length * y.length > 4e6) return [{op: '-', text: '(too long to compare)'}];
  const m = x.length, n = y.length;
  const L = Array.from({length: m + 1}, () => new Uint32Array(n + 1));
  for (let i = m - 1; i >= 0; i--) for (let j = n - 1; j >= 0; j--)
    L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < m && j < n) {
    if (x[i] === y[j]) { out.push({op: ' ', text: x[i]}); i++; j++; }
    else if (L[i + 1][j] >= L[i][j + 1]) out.push({op: '-', text: x[i++]});
    else out.push({op: '+', text: y[j++]});
  }
  while (i < m) out.push({op: '-', text: x[i++]});
  while (j < n) out.push({op: '+', text: y[j++]});
  return out;
}
