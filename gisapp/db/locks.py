"""The session-level advisory locks that keep long database jobs from running into each other.

Any fixed numbers, one per job. Whoever needs several takes them in the order listed here
(migrations before assessments), so two jobs never wait for each other in a cycle.
"""

#: one migrator at a time per database
MIGRATION = 7_240_421
#: one run of the zone-local rules at a time (`gisapp assess`, the worker), and one of the
#: whole-city rules: two runs of the same rules would race for "current", while a run of each kind
#: may go side by side (the worker's zone rounds need not wait for the city's). A full run,
#: `prune-findings` and a migration take both, in this order: re-applying the views takes locks
#: that deadlocked with a running assessment's reads
ASSESSMENT = 7_310_001
ASSESSMENT_CITY = 7_310_002
ASSESSMENTS = (ASSESSMENT, ASSESSMENT_CITY)
#: (with a zone's id) writers of parcel geometry in one zone, one at a time until commit: the
#: overlap check then sees what the previous writer committed (sql/security/0310_parcel_workflow.sql
#: uses the same number; transaction-level, taken by the database's own triggers)
ZONE_GEOMETRY = 7_350_001
