-- Personal read-only API tokens (issue #21): for GIS clients that cannot sign in through the
-- sign-in page (QGIS, GDAL, a script, another department's web map), sent as
-- `Authorization: Bearer <token>` or as the password of HTTP Basic. A token reads what its
-- account may read and nothing else; it never authorizes a write (gisapp/web/auth.py accepts it
-- on GET, HEAD and OPTIONS only). The table holds the SHA-256 of a token, never the token: whoever
-- reads it (an injection as the app's login role) cannot present one. Created and revoked
-- through the functions of sql/security/0930_api_tokens.sql only, audited by the tables' own
-- triggers (0020: the version column makes the table an audited, versioned one).
CREATE TABLE auth.api_tokens (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     integer NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    label       text NOT NULL CHECK (length(btrim(label)) BETWEEN 1 AND 80),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    version     integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text,
    CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);
CREATE INDEX api_tokens_user_idx ON auth.api_tokens (user_id);
REVOKE ALL ON auth.api_tokens FROM PUBLIC;
