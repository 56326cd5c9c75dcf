// login — sign in, first-run setup, sign out.
import {h, mount, field, notice} from '../dom.js';
import {api, setCsrf, ApiError} from '../api.js';
import {session} from '../session.js';
import {navigate} from '../app.js';

// Only a path of this site: never an absolute or protocol-relative URL.
function safeNext(query) {
  const next = query.get('next') || '/';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

async function signedIn(res, query) {
  session.user = res.user;
  setCsrf(res.csrf_token);
  navigate(safeNext(query), {replace: true});
}

export function loginPage({main, query}) {
  if (session.user) return navigate(safeNext(query), {replace: true});
  const email = h('input', {type: 'email', name: 'email', autocomplete: 'username', required: true});
  const password = h('input', {type: 'password', name: 'password', autocomplete: 'current-password', required: true});
  const msg = h('div', {'aria-live': 'polite'});
  const button = h('button', {type: 'submit', class: 'btn primary'}, 'Sign in');
  const form = h('form', {class: 'card narrow', id: 'login-form', onsubmit: async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    mount(msg);
    try {
      const res = await api('POST', '/api/auth/login', {email: email.value, password: password.value}, {quiet401: true});
      await signedIn(res, query);
    } catch (e) {
      password.value = '';
      mount(msg, notice(e instanceof ApiError && (e.status === 401 || e.status === 400)
        ? 'Wrong email or password.' : e.message, 'error'));
      button.disabled = false;
      password.focus();
    }
  }}, h('h1', {}, 'Sign in to Periscope'), field('Email', email), field('Password', password), msg, button);
  mount(main, form);
  email.focus();
}

export function setupPage({main, query}) {
  const token = query.get('token') || '';
  const name = h('input', {type: 'text', name: 'name', autocomplete: 'name'});
  const email = h('input', {type: 'email', name: 'email', autocomplete: 'username', required: true});
  const password = h('input', {type: 'password', name: 'password', autocomplete: 'new-password', minlength: 12, required: true});
  const msg = h('div', {'aria-live': 'polite'});
  const form = h('form', {class: 'card narrow', id: 'setup-form', onsubmit: async (ev) => {
    ev.preventDefault();
    mount(msg);
    try {
      await api('POST', '/api/auth/setup', {token, email: email.value, password: password.value, name: name.value}, {quiet401: true});
      const res = await api('POST', '/api/auth/login', {email: email.value, password: password.value}, {quiet401: true});
      await signedIn(res, new URLSearchParams());
    } catch (e) {
      mount(msg, notice(e.message, 'error'));
    }
  }}, h('h1', {}, 'Set up Periscope'),
  h('p', {}, 'Create the first administrator. This link works once.'),
  !token ? notice('This page needs the setup link printed by the server at its first start.', 'error') : null,
  field('Name', name), field('Email', email), field('Password', password, 'At least 12 characters.'),
  msg, h('button', {type: 'submit', class: 'btn primary', disabled: !token}, 'Create administrator'));
  mount(main, form);
}

export async function signOut() {
  try { await api('POST', '/api/auth/logout', {}); } catch { /* signed out either way */ }
  session.user = null;
  setCsrf(null);
  navigate('/login', {replace: true});
}
