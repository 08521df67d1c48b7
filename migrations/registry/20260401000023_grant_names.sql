-- How council members are named in protocols: the login and display name
-- identity announces with each grant.
ALTER TABLE known_grants ADD COLUMN IF NOT EXISTS login TEXT NOT NULL DEFAULT '';
ALTER TABLE known_grants ADD COLUMN IF NOT EXISTS display_name TEXT NOT NULL DEFAULT '';
