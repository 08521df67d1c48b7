-- A municipality's OKTMO code (8 or 11 digits), by which region-wide
-- files name it; unique within the region when given.
ALTER TABLE municipalities ADD COLUMN code text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX municipalities_code ON municipalities (region_id, code) WHERE code <> '';
