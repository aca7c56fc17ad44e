-- The KMS service core: keys, their backing-key versions (token labels), aliases, tags, key
-- policies, grants and the audit trail. Plain types only, so the same file runs on H2 2.x and
-- PostgreSQL 15. Times are epoch milliseconds (BIGINT): no time-zone conversions anywhere.

-- One KMS key. key_state holds AWS's states plus two internal ones that no caller ever sees:
-- 'Creating' (the row exists, its token object may not yet) and 'Deleting' (the window has ended,
-- the token objects are being destroyed). reconcile() finishes or undoes both after a crash.
CREATE TABLE kms_key (
  key_id VARCHAR(64) PRIMARY KEY,
  key_arn VARCHAR(256) NOT NULL UNIQUE,
  account_id VARCHAR(32) NOT NULL,
  key_description VARCHAR(8192) NOT NULL,
  key_usage VARCHAR(32) NOT NULL,
  key_spec VARCHAR(32) NOT NULL,
  key_origin VARCHAR(32) NOT NULL,
  custom_key_store_id VARCHAR(64),
  key_state VARCHAR(32) NOT NULL,
  creation_ms BIGINT NOT NULL,
  deletion_ms BIGINT,
  pending_window_days INT,
  current_version INT NOT NULL,
  policy_json VARCHAR(65536) NOT NULL,
  rotation_enabled BOOLEAN NOT NULL,
  rotation_period_days INT,
  next_rotation_ms BIGINT
);
CREATE INDEX kms_key_state_idx ON kms_key (key_state);

-- The backing keys of a KMS key: version 1 at creation, one more per rotation. token_label is the
-- label of the token object(s); the row is written (status 'Creating') in the transaction before
-- the token object is made, so a crash in between leaves a row reconcile() can act on.
CREATE TABLE kms_key_version (
  key_id VARCHAR(64) NOT NULL,
  version_no INT NOT NULL,
  token_label VARCHAR(512) NOT NULL,
  version_status VARCHAR(16) NOT NULL,
  created_ms BIGINT NOT NULL,
  PRIMARY KEY (key_id, version_no)
);

CREATE TABLE kms_alias (
  alias_name VARCHAR(256) PRIMARY KEY,
  target_key_id VARCHAR(64) NOT NULL,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE INDEX kms_alias_target_idx ON kms_alias (target_key_id);

CREATE TABLE kms_tag (
  key_id VARCHAR(64) NOT NULL,
  tag_key VARCHAR(128) NOT NULL,
  tag_value VARCHAR(256) NOT NULL,
  PRIMARY KEY (key_id, tag_key)
);

-- Grants as the service stores them; access.AccessControl evaluates them. Operations are a
-- comma-separated list of AWS operation names; constraints are JSON (or NULL).
CREATE TABLE kms_grant (
  grant_id VARCHAR(128) PRIMARY KEY,
  key_id VARCHAR(64) NOT NULL,
  grant_name VARCHAR(256),
  grantee_principal VARCHAR(512) NOT NULL,
  retiring_principal VARCHAR(512),
  issuing_account VARCHAR(512) NOT NULL,
  grant_operations VARCHAR(1024) NOT NULL,
  constraints_json VARCHAR(16384),
  grant_token VARCHAR(512) NOT NULL UNIQUE,
  created_ms BIGINT NOT NULL
);
CREATE INDEX kms_grant_key_idx ON kms_grant (key_id);

-- The audit trail: one CloudTrail-shaped JSON record per call, chained by SHA-256. The head row
-- (single_row = 1) keeps the count and the last hash, so a record cut off the end also shows.
CREATE TABLE kms_audit (
  seq_no BIGINT PRIMARY KEY,
  record_json VARCHAR(1000000) NOT NULL,
  prev_hash VARCHAR(64) NOT NULL,
  record_hash VARCHAR(64) NOT NULL
);
CREATE TABLE kms_audit_head (
  single_row INT PRIMARY KEY,
  record_count BIGINT NOT NULL,
  head_hash VARCHAR(64) NOT NULL
);
INSERT INTO kms_audit_head (single_row, record_count, head_hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
