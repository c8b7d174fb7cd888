-- What a tool's OAuth endpoints need of the operator's app besides the client id, such as
-- Rippling's app name in its authorization URL: a JSON object, NULL when the tool needs none.
ALTER TABLE oauth_apps ADD COLUMN settings TEXT;
