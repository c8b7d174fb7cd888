-- Connection checks (the server's checks.rs): when an integration's credentials are next
-- verified against its tool, and since when they have been refused. Both start empty: an
-- integration without check_due_at is due one interval after its last change (updated_at), so
-- a fresh or relinked integration, whose credentials were just verified, is not checked again
-- at once. Added columns only, so an older server keeps working beside a newer one.
ALTER TABLE integrations ADD COLUMN check_due_at BIGINT;
ALTER TABLE integrations ADD COLUMN failing_since BIGINT;
