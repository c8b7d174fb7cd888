-- When each API key last authenticated a request, for the dashboard's list of keys: written at
-- most once a minute per key, when a server looks the key up (it caches valid keys for 10 s).
-- Keep in step with the other backend.
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
