"""The revitalization record (盘活存量, issue #20; domain §7 "Progress") and zone rectification
(the 2021 opinions 3.5).

- :mod:`.quarters`: calendar quarters (pure).
- :mod:`.params`: each zone's yearly target and the rectification thresholds, as parameters of the
  project's one parameter mechanism (``gisapp params set revitalization target_ha ...``).
- :mod:`.snapshots`: quarterly snapshots of the stock of idle, low-efficiency, approved-unsupplied
  and supplied-unbuilt land per zone, counted as the dashboard counts it, kept unchanged
  (``rules.stock_snapshots``), taken by `gisapp snapshot take` and by the live worker's daily pass.
- :mod:`.rectification`: the national results a zone receives (recorded per year with their
  source), the flags they raise and the zone_rectification cases those open.
- :mod:`.progress`: what the revitalization page shows (trend against target, cases by stage,
  overdue steps, unpaid fees).
"""
