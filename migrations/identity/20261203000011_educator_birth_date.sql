-- Birth date and sex of an educator: the federal registry of documents
-- (ФИС ФРДО) requires both for every further-education document the region
-- exports (issue 11). Optional: unknown until an operator or an import
-- fills them in; the export reports the rows that lack them.
ALTER TABLE educators
    ADD COLUMN birth_date date,
    ADD COLUMN sex text NOT NULL DEFAULT '' CHECK (sex IN ('', 'male', 'female'));
