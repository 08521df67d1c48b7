-- Applied versions are kept per consumer *and source* ("monitoring:registry"):
-- two services may version events of the same aggregate id (the registry's
-- group and enrollment's roster of it). Rows under the old key (the consumer
-- alone) are dropped: each read-model applies the next snapshot of an
-- aggregate once more, which is what it holds or newer.
DELETE FROM applied_versions WHERE position(':' in consumer) = 0;
