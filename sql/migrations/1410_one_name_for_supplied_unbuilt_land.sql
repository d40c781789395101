-- One name for land supplied but not built: the policy's term 供而未用 (docs/policy.md §5.1), which
-- the land_inventory rule's outcome already used; the status said 供而未建 for the same land, so a
-- page could show both names side by side. gisapp/i18n.py holds the same label (status.*).
UPDATE land.parcel_statuses SET name_zh = '供而未用', name_en = 'Supplied, not built'
WHERE code = 'granted_unbuilt';
