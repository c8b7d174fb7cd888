-- The integration an event is about, so the dashboard's page of an integration lists its
-- events and their deliveries. Events written before this migration get it from their payload
-- (integration-created and -deleted carry data.id, integration-state-changed
-- data.integration_id). Keep in step with the other backend.
ALTER TABLE events ADD COLUMN integration_id TEXT;
UPDATE events SET integration_id = COALESCE(payload::jsonb -> 'data' ->> 'integration_id',
                                            payload::jsonb -> 'data' ->> 'id')
    WHERE event_type IN ('integration-created', 'integration-deleted', 'integration-state-changed');
CREATE INDEX events_by_integration ON events (environment_id, integration_id, created_at)
    WHERE integration_id IS NOT NULL;
