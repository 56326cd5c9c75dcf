// settings — a project's DSN and SDK setup, keys, rate limit, name,
// members, deletion.
import {h, mount, field, notice, copyButton, fmtTime} from '../dom.js';
import {get, post, patch, put, del, P, ApiError} from '../api.js';
import {isAdmin, canEdit} from '../session.js';
import {SNIPPETS} from '../snippets.js';
import {forgetProjectName} from '../app.js';

function dsnSection(project) {
  const dsn = project.dsn || '';
  const code = h('pre', {class: 'code', id: 'snippet', tabindex: 0});
  const tabs = h('div', {class: 'seg', role: 'tablist', 'aria-label': 'SDK'});
  const show = (i) => {
    const [, make] = SNIPPETS[i];
    code.textContent = make(dsn || 'DSN');
    for (const [j, b] of [...tabs.children].entries()) b.setAttribute('aria-selected', String(i === j));
  };
  SNIPPETS.forEach(([name], i) => tabs.append(h('button', {type: 'button', role: 'tab', class: 'btn small', onclick: () => show(i)}, name)));
  show(0);
  return h('section', {class: 'card'}, h('h2', {}, 'DSN'),
    dsn ? h('div', {class: 'copyrow'}, h('code', {id: 'dsn'}, dsn), copyButton(() => dsn, 'Copy DSN'))
      : notice('This project has no active key: create one below.', 'error'),
    h('h3', {}, 'Set up an SDK'), tabs, code, copyButton(() => code.textContent, 'Copy snippet'));
}

async function keysSection(id, rerender) {
  const keys = (await get(`${P(id)}/keys`)).data;
  const msg = h('div', {'aria-live': 'polite'});
  const rows = keys.map((k) => h('tr', {class: k.revoked_at ? 'muted' : ''},
    h('td', {}, h('code', {}, k.public_key)), h('td', {}, fmtTime(k.created_at)),
    h('td', {}, k.revoked_at ? `revoked ${fmtTime(k.revoked_at)}` : 'active'),
    h('td', {}, !k.revoked_at && isAdmin() ? h('button', {type: 'button', class: 'btn small danger', onclick: async () => {
      if (!confirm(`Revoke key ${k.public_key}? SDKs using it will be refused.`)) return;
      try { await del(`${P(id)}/keys/${k.public_key}`); rerender(); } catch (e) { mount(msg, notice(e.message, 'error')); }
    }}, 'Revoke') : null)));
  return h('section', {class: 'card', id: 'keys'}, h('h2', {}, 'Keys'),
    h('table', {class: 'grid'}, h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Public key'), h('th', {scope: 'col'}, 'Created'), h('th', {scope: 'col'}, 'State'), h('th', {scope: 'col'}, h('span', {class: 'sr-only'}, 'Actions')))), h('tbody', {}, rows)),
    msg, isAdmin() ? h('button', {type: 'button', class: 'btn', id: 'new-key', onclick: async () => {
      try { await post(`${P(id)}/keys`); rerender(); } catch (e) { mount(msg, notice(e.message, 'error')); }
    }}, 'Create key') : null);
}

function generalSection(project) {
  const admin = isAdmin();
  const name = h('input', {type: 'text', name: 'name', value: project.name, required: true, maxlength: 200, disabled: !admin});
  const rate = h('input', {type: 'number', name: 'rate_limit_per_minute', min: 0, value: project.rate_limit_per_minute, disabled: !admin});
  const msg = h('div', {'aria-live': 'polite'});
  return h('form', {class: 'card', id: 'project-general', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      await patch(P(project.id), {name: name.value, rate_limit_per_minute: Number(rate.value)});
      forgetProjectName(project.id);
      mount(msg, notice('Saved.'));
    } catch (e) { mount(msg, notice(e.message, 'error')); }
  }}, h('h2', {}, 'General'), field('Name', name), field('Rate limit (events per minute, 0 = unlimited)', rate),
  msg, admin ? h('button', {type: 'submit', class: 'btn primary'}, 'Save') : null);
}

async function membersSection(id) {
  if (!isAdmin()) return null;
  let users, members;
  try {
    [users, members] = await Promise.all([get('/api/admin/users'), get(`${P(id)}/members`)]);
  } catch (e) {
    return h('section', {class: 'card'}, h('h2', {}, 'Members'), notice(e instanceof ApiError ? e.message : String(e), 'error'));
  }
  const list = users.data || users;
  const ids = new Set((members.user_ids || (members.data || []).map((m) => m.id || m.user_id)).map(Number));
  const boxes = list.filter((u) => u.role !== 'admin').map((u) => h('label', {class: 'check'},
    h('input', {type: 'checkbox', value: u.id, checked: ids.has(Number(u.id))}), ` ${u.name || u.email} `, h('span', {class: 'muted'}, `${u.email} · ${u.role}`)));
  const msg = h('div', {'aria-live': 'polite'});
  return h('form', {class: 'card', id: 'members', onsubmit: async (ev) => {
    ev.preventDefault();
    const chosen = boxes.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => Number(i.value));
    try { await put(`${P(id)}/members`, {user_ids: chosen}); mount(msg, notice('Members saved.')); } catch (e) { mount(msg, notice(e.message, 'error')); }
  }}, h('h2', {}, 'Members'), h('p', {class: 'muted'}, 'Administrators see every project. Members and viewers see the projects they belong to.'),
  boxes.length ? boxes : h('p', {class: 'muted'}, 'No members or viewers yet.'), msg,
  h('button', {type: 'submit', class: 'btn primary'}, 'Save members'));
}

function dangerSection(project, navigate) {
  if (!isAdmin()) return null;
  return h('section', {class: 'card danger-zone'}, h('h2', {}, 'Delete project'),
    h('p', {}, 'Deletes the project with its keys, issues and events.'),
    h('button', {type: 'button', class: 'btn danger', onclick: async () => {
      if (prompt(`Type the project name (${project.name}) to delete it.`) !== project.name) return;
      await del(P(project.id));
      navigate('/');
    }}, 'Delete project'));
}

export async function settingsPage({main, params, navigate}) {
  const [id] = params;
  const render = async () => {
    const project = await get(P(id));
    mount(main, h('h1', {}, `${project.name} · Settings`),
      dsnSection(project), await keysSection(id, render), generalSection(project),
      await membersSection(id), dangerSection(project, navigate),
      canEdit() ? null : h('p', {class: 'muted'}, 'You have read access to this project.'));
  };
  await render();
}
