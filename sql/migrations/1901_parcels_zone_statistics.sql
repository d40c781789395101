-- A zone's run (the live worker re-assesses one zone at a time, #19) reads the rows of that
-- zone's parcels from the grant, metric and progress tables through their parcel index, when
-- the planner knows a zone holds a few thousand parcels. With the default statistics target the
-- most-common-values list of land.parcels.zone_id held 16 of 498 zones at city scale, the rest
-- were estimated at 13,000 parcels each, and every one-zone run hashed the whole of
-- land.land_grants and land.enterprise_metrics (145 ms and 263 ms a frame, against 5 ms and
-- 10 ms by index). A target of 1,000 keeps every zone in the list.
ALTER TABLE land.parcels ALTER COLUMN zone_id SET STATISTICS 1000;
ANALYZE land.parcels;
