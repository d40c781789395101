"""The policy rules of docs/policy.md §5, one module per family, each implemented once.

A rule is a :class:`~gisapp.rules.base.RuleSpec` (name, version, parameters with their source
and effective date) plus an ``evaluate`` function on pandas/geopandas frames that returns a
findings frame (see :data:`~gisapp.rules.base.FINDING_COLUMNS`). ``gisapp assess`` loads the
inputs from PostGIS, runs every registered rule and stores the findings; notebooks call the
same functions on their own frames.
"""
