-- A project account has at most one quota request waiting for the bureau's decision: a second
-- one while the first is pending is the same need asked twice (two editors at the same moment,
-- or a double submit); the later one is refused with the pending request to amend instead.
CREATE UNIQUE INDEX quota_requests_one_pending_per_account ON land.quota_requests (account_id)
    WHERE status = 'pending';
