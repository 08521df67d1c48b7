-- The program's form of study (очная, очно-заочная, заочная, дистанционная),
-- which the ФИС ФРДО export names per document.
ALTER TABLE known_groups ADD COLUMN form text NOT NULL DEFAULT '';
