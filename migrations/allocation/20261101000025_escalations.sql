-- The level whose turn a freed place was last recorded at: when a window
-- ends, the handover to the next level is recorded (and published) once.
ALTER TABLE free_places ADD COLUMN level TEXT NOT NULL DEFAULT 'organization'
    CHECK (level IN ('organization', 'municipality', 'region'));
UPDATE free_places SET level = 'region' WHERE organization_id IS NULL;
CREATE INDEX free_places_open_levels ON free_places (freed_at) WHERE taken_by IS NULL AND level <> 'region';
