-- Custom key stores (io.hsmkit.kms.cks.CustomKeyStores): one row per store.
-- Column names carry the cks_/pin_ prefixes because name, value and key are reserved in H2.
-- Times are epoch milliseconds (BIGINT) and the sealed PINs base64 text, so that the same
-- statements run on H2 2.x and PostgreSQL 15 without type differences.
CREATE TABLE kms_custom_key_store (
  cks_id            VARCHAR(32)   PRIMARY KEY,
  cks_name          VARCHAR(256)  NOT NULL,
  cluster_id        VARCHAR(64)   NOT NULL,
  trust_anchor      VARCHAR(8192) NOT NULL,
  store_type        VARCHAR(32)   NOT NULL,
  conn_state        VARCHAR(16)   NOT NULL,
  conn_error        VARCHAR(64),
  -- kmsuser PIN as the adapter will try it next, sealed (AES-GCM under a key of the default store)
  pin_current       VARCHAR(512)  NOT NULL,
  -- a PIN being rotated to: written before C_SetPIN, cleared after; tried when pin_current fails
  pin_pending       VARCHAR(512),
  failed_connects   INTEGER       NOT NULL DEFAULT 0,
  -- +1 on every successful connect: a node whose open store is of an older epoch reopens it
  conn_epoch        INTEGER       NOT NULL DEFAULT 0,
  created_ms        BIGINT        NOT NULL,
  state_changed_ms  BIGINT        NOT NULL,
  CONSTRAINT kms_cks_name_unique UNIQUE (cks_name)
);
CREATE INDEX kms_cks_cluster_idx ON kms_custom_key_store (cluster_id);
