-- Principals of the KMS service (access part). One row per access key; the secret access key is
-- stored only wrapped: AES-256-GCM under the token key 'hsmkit-kms-principal-wrap', with the
-- access key id in the AAD, base64-encoded (portable across H2 and PostgreSQL).
CREATE TABLE kms_principal (
  access_key_id   VARCHAR(20)     PRIMARY KEY,
  principal_name  VARCHAR(64)     NOT NULL,
  account_id      VARCHAR(12)     NOT NULL,
  principal_arn   VARCHAR(256)    NOT NULL,
  identity_policy VARCHAR(131072),
  wrapped_secret  VARCHAR(256)    NOT NULL,
  wrap_key_label  VARCHAR(64)     NOT NULL,
  active          BOOLEAN         NOT NULL,
  created_millis  BIGINT          NOT NULL,
  CONSTRAINT kms_principal_name_unique UNIQUE (account_id, principal_name)
);
