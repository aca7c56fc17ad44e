-- The audit trail anchored in the HSM (io.hsmkit.kms.audit.AuditSeal): an HMAC-SHA256, made in the
-- token by a non-extractable key, of each record's chain hash and of the head. Hex, 64 characters.
-- Null for records written before a seal was configured. Plain ALTERs: H2 2.x and PostgreSQL.
ALTER TABLE kms_audit ADD COLUMN record_mac VARCHAR(64);
ALTER TABLE kms_audit_head ADD COLUMN head_mac VARCHAR(64);
