-- Accounts (README "Accounts and tokens"): people with a role, their
-- project memberships, browser sessions, API tokens, the one-time setup
-- links, and the activity record of every change made through the API.
-- Secrets are never stored: sessions, tokens and setup links are kept as
-- the hex SHA-256 of what the client holds; passwords as Argon2id strings.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,          -- lower-cased
    name          TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL,                 -- admin | member | viewer
    password_hash TEXT    NOT NULL,                 -- crypto_pwhash_str (Argon2id)
    created_at    BIGINT  NOT NULL
);

CREATE TABLE project_members (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members(user_id);

CREATE TABLE sessions (
    id_hash      TEXT    PRIMARY KEY,               -- hex SHA-256 of the cookie's id
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,           -- hex SHA-256 of psc_…
    name         TEXT    NOT NULL,
    user_id      INTEGER REFERENCES users(id) ON DELETE CASCADE, -- NULL: made with the root key
    scope        TEXT    NOT NULL,                  -- read | write | admin
    project_ids  TEXT,                              -- NULL: every project; else "1,2,3"
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE setup_tokens (
    token_hash TEXT   PRIMARY KEY,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE activity (
    id          INTEGER PRIMARY KEY,
    at          BIGINT  NOT NULL,
    actor_type  TEXT    NOT NULL,                   -- user | token | root
    actor_id    BIGINT,                             -- the user's or token's id
    actor_name  TEXT    NOT NULL DEFAULT '',        -- email or token name, as it was then
    project_id  BIGINT,                             -- no foreign key: kept after a delete
    action      TEXT    NOT NULL,                   -- issue.update, script.upload, …
    target_type TEXT    NOT NULL DEFAULT '',
    target_id   TEXT    NOT NULL DEFAULT '',
    changes     TEXT    NOT NULL DEFAULT '{}'       -- short JSON of what changed
);
CREATE INDEX activity_project ON activity(project_id, id);
CREATE INDEX activity_target ON activity(target_type, target_id, id);
