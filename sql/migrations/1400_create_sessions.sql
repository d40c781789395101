-- Server-side sessions: the signed cookie carries a random session id, and only a session whose
-- id is in this table signs anyone in, so logout and a password change end it at once (a signed
-- cookie alone stays valid until it expires). The table holds a hash of the id, never the id:
-- whoever reads it (an injection as the app's login role) cannot present a session from it.
CREATE TABLE auth.sessions (
    token_hash   bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    user_id      integer NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    -- sha-256 of the client's address and user agent at sign-in: a cookie presented by another
    -- client ends the session (what flask-login's "strong" protection does for non-permanent
    -- sessions only)
    client_hash  bytea NOT NULL CHECK (octet_length(client_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_idx ON auth.sessions (user_id);
CREATE INDEX sessions_expires_idx ON auth.sessions (expires_at);
REVOKE ALL ON auth.sessions FROM PUBLIC;

-- An attempt refused because of throttling was not a guess at the password: it is recorded
-- (who knocked, and when) but does not count towards the back-off, or a client knocking while
-- locked out would lengthen its own wait without end, and an account-wide limit could be driven
-- by one address alone.
ALTER TABLE auth.login_attempts ADD COLUMN throttled boolean NOT NULL DEFAULT false;
CREATE INDEX login_attempts_user_addr_time_idx ON auth.login_attempts (username, remote_addr, attempted_at);
