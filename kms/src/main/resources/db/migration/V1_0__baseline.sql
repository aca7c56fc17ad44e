-- Baseline: the schema's first version. Each area adds its own files (see store.Database).
CREATE TABLE kms_schema_info (info_name VARCHAR(64) PRIMARY KEY, info_value VARCHAR(256) NOT NULL);
INSERT INTO kms_schema_info (info_name, info_value) VALUES ('created_by', 'hsmkit');
