-- Rotation and BYOK import. rotation_type says how a backing-key version came to be (NULL for
-- the first one); import_kcv is a check value of imported key material (SHA-256 over the AES
-- encryption of a zero block under it), so a re-import of different material is refused without
-- the material ever being seen.
ALTER TABLE kms_key_version ADD COLUMN rotation_type VARCHAR(16);
ALTER TABLE kms_key ADD COLUMN import_kcv VARCHAR(64);

-- Import tokens: the RSA wrapping key pair (token objects labelled wrapping_label) and its expiry.
CREATE TABLE kms_import_token (
  token_id VARCHAR(64) PRIMARY KEY,
  key_id VARCHAR(64) NOT NULL,
  wrapping_label VARCHAR(512) NOT NULL,
  wrapping_algorithm VARCHAR(32) NOT NULL,
  valid_to_ms BIGINT NOT NULL
);
CREATE INDEX kms_import_token_key_idx ON kms_import_token (key_id);
