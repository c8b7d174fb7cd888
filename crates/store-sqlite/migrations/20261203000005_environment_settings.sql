-- What an operator set for an environment in the dashboard, over the configuration: the
-- product name the flow shows and the origins allowed to frame it. NULL keeps the configured
-- value. Keep in step with the other backend.
CREATE TABLE environment_settings (
    environment_id  TEXT PRIMARY KEY REFERENCES environments (id),
    product_name    TEXT,
    frame_ancestors TEXT,
    updated_at      INTEGER NOT NULL
) STRICT;
