-- Balances kept from enrollment's events (numbers used, voucher blocks
-- spent, plan-order hours drawn) and monitoring's PD records.

-- The application using a number (status 'used').
ALTER TABLE unique_numbers ADD COLUMN application_id UUID;

-- Hours of an organization's plan-order quota drawn by an application
-- (cumulative_route); released when the application is withdrawn or rejected.
CREATE TABLE hour_draws (
    application_id  UUID PRIMARY KEY,
    campaign_id     UUID NOT NULL,
    organization_id UUID NOT NULL,
    hours           INTEGER NOT NULL CHECK (hours >= 0),
    active          BOOLEAN NOT NULL
);
CREATE INDEX hour_draws_org ON hour_draws (campaign_id, organization_id) WHERE active;

-- PD records (monitoring): the latest that counts is the educator's last PD
-- when it is later than identity's historical date.
CREATE TABLE pd_records (
    record_id   UUID PRIMARY KEY,
    educator_id UUID NOT NULL,
    ended_on    DATE NOT NULL,
    counts      BOOLEAN NOT NULL
);
CREATE INDEX pd_records_educator ON pd_records (educator_id) WHERE counts;
