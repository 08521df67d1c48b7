-- Programs approved in bulk (a council's protocol) would otherwise sit in
-- the trigram index's pending list until the next vacuum, and the planner
-- would read every program for a text search meanwhile (measured by
-- `pd bench catalog`). Approved programs are few; insert cost is no matter.
ALTER INDEX programs_catalog_text SET (fastupdate = off);
