// account — who is signed in, their API tokens, and (admins) the users.
import {h, mount, field, notice, fmtTime} from '../dom.js';
import {get, post, del} from '../api.js';
import {session, isAdmin} from '../session.js';

async function tokensSection() {
  const msg = h('div', {'aria-live': 'polite'});
  let tokens = [];
  try { tokens = (await get('/api/admin/tokens')).data; } catch (e) { return h('section', {class: 'card'}, h('h2', {}, 'API tokens'), notice(e.message, 'error')); }
  const name = h('input', {type: 'text', name: 'token_name', required: true});
  const scope = h('select', {name: 'scope'}, ['read', 'write', 'admin'].map((s) => h('option', {value: s}, s)));
  const section = h('section', {class: 'card', id: 'tokens'}, h('h2', {}, 'API tokens'),
    tokens.length ? h('table', {class: 'grid'}, h('thead', {}, h('tr', {}, ['Name', 'Scope', 'Created', 'Last used', ''].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, tokens.map((t) => h('tr', {}, h('td', {}, t.name), h('td', {}, t.scope), h('td', {}, fmtTime(t.created_at)), h('td', {}, fmtTime(t.last_used_at)),
        h('td', {}, h('button', {type: 'button', class: 'btn small danger', onclick: async () => {
          if (!confirm(`Revoke token ${t.name}?`)) return;
          await del(`/api/admin/tokens/${t.id}`);
          section.replaceWith(await tokensSection());
        }}, 'Revoke')))))) : h('p', {class: 'muted'}, 'No tokens.'),
    h('form', {class: 'inline', onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const t = await post('/api/admin/tokens', {name: name.value, scope: scope.value, project_ids: null, expires_at: null});
        mount(msg, notice('Copy the token now: it is not shown again.'), h('code', {class: 'secret'}, t.token));
      } catch (e) { mount(msg, notice(e.message, 'error')); }
    }}, field('Name', name), field('Scope', scope), h('button', {type: 'submit', class: 'btn'}, 'Create token')), msg);
  return section;
}

async function usersSection() {
  if (!isAdmin()) return null;
  const msg = h('div', {'aria-live': 'polite'});
  let users = [];
  try { users = (await get('/api/admin/users')).data; } catch (e) { return h('section', {class: 'card'}, h('h2', {}, 'Users'), notice(e.message, 'error')); }
  const email = h('input', {type: 'email', name: 'new_email', required: true});
  const uname = h('input', {type: 'text', name: 'new_name'});
  const pw = h('input', {type: 'password', name: 'new_password', minlength: 12, required: true, autocomplete: 'new-password'});
  const role = h('select', {name: 'role'}, ['viewer', 'member', 'admin'].map((r) => h('option', {value: r}, r)));
  return h('section', {class: 'card', id: 'users'}, h('h2', {}, 'Users'),
    h('table', {class: 'grid'}, h('thead', {}, h('tr', {}, ['Email', 'Name', 'Role', 'Created'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, users.map((u) => h('tr', {}, h('td', {}, u.email), h('td', {}, u.name || ''), h('td', {}, u.role), h('td', {}, fmtTime(u.created_at)))))),
    h('form', {onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await post('/api/admin/users', {email: email.value, name: uname.value, password: pw.value, role: role.value});
        document.getElementById('users').replaceWith(await usersSection());
      } catch (e) { mount(msg, notice(e.message, 'error')); }
    }}, h('h3', {}, 'Add a user'), field('Email', email), field('Name', uname), field('Password', pw, 'At least 12 characters.'), field('Role', role), msg,
    h('button', {type: 'submit', class: 'btn primary'}, 'Add user')));
}

export async function accountPage({main}) {
  const u = session.user;
  mount(main, h('h1', {}, 'Account'),
    h('section', {class: 'card'}, h('p', {}, `Signed in as ${u.email}`, u.name ? ` (${u.name})` : '', `, role ${u.role}.`)),
    await tokensSection(), await usersSection());
}
