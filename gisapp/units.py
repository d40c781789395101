"""Units the bureaus count land in: 1 hectare = 15 mu (亩), docs/policy.md §4. One place for the factor,
read by the rules, the SQL of the parcel page and dashboards, and the demo generator."""

MU_PER_M2 = 15 / 10_000
