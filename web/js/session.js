// session — who is signed in ({id, email, name, role} or null) and what
// their role lets the page offer. The server checks every request; this
// only hides controls a role cannot use.
export const session = {user: null};

export const isAdmin = () => session.user && session.user.role === 'admin';
// member or admin: triage, scripts, destinations
export const canEdit = () => session.user && session.user.role !== 'viewer';
