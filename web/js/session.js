// session — who is signed in ({id, email, name, role} or null) and what
// their role lets the page offer. The server checks every request; this
// only hides controls a role cannot use. Kept in sessionStorage so that a
// page load draws at once while /api/auth/me confirms it (app.js boot).
const KEY = 'periscope.user';
let user = null;
try { user = JSON.parse(sessionStorage.getItem(KEY)); } catch { user = null; }

export const session = {
  get user() { return user; },
  set user(u) {
    user = u || null;
    if (user) sessionStorage.setItem(KEY, JSON.stringify(user));
    else sessionStorage.removeItem(KEY);
  },
};

export const isAdmin = () => session.user && session.user.role === 'admin';
// member or admin: triage, scripts, destinations
export const canEdit = () => session.user && session.user.role !== 'viewer';
