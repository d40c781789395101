-- Sign-in throttling looks up recent failures by address as well as by user name; a finding's
-- review (confirm / dismiss) must say why. NOT VALID: rows written before this rule stay as
-- they are, every new or changed row obeys it.
CREATE INDEX login_attempts_addr_time_idx ON auth.login_attempts (remote_addr, attempted_at);

ALTER TABLE rules.findings
    ADD CONSTRAINT findings_review_has_reason
    CHECK (review_status = 'open' OR length(btrim(coalesce(review_reason, ''))) > 0) NOT VALID;
