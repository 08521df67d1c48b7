-- Candidates are due by the year they train in (the campaign's year + 1:
-- the cycle starts with September's survey and trains after December's
-- window), no longer by the campaign's own year. The stored flags are
-- recomputed once by that rule; candidates::refresh keeps them so after.
UPDATE candidates c
SET eligible = e.active AND (c.last_pd_completed_on IS NULL
    OR c.last_pd_completed_on < make_date(k.year + 1 - COALESCE(r.pd_interval_years, 3), 1, 1))
FROM known_educators e, known_campaigns k
LEFT JOIN known_regions r ON r.id = k.region_id
WHERE e.id = c.educator_id AND k.id = c.campaign_id;
