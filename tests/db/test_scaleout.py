"""The rules run partitioned by zone on a local dask cluster give the same findings as one process."""

from __future__ import annotations

import pytest

from gisapp import api
from gisapp.demo import DEMO_AS_OF
from gisapp.rules.evaluate import evaluate_rules

pytestmark = pytest.mark.db

KEY = ["rule", "subject_type", "subject_id"]


def _comparable(frame):
    out = frame[[*KEY, "outcome", "is_positive", "explanation_zh"]].astype(str)
    return out.sort_values(KEY).reset_index(drop=True)


def test_partitioned_rules_on_a_local_cluster_equal_the_single_process_run(engine):
    from distributed import Client, LocalCluster

    from gisapp.scaleout import run_rules_partitioned, split_rules

    inputs = api.rule_inputs(None, as_of=DEMO_AS_OF, engine=engine)
    single = evaluate_rules(inputs, DEMO_AS_OF)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        parted = run_rules_partitioned(inputs, DEMO_AS_OF, client=client, npartitions=4)
    local, whole = split_rules(None)
    assert "per_mu" in local and "zone_performance" in whole
    assert len(parted) == len(single) > 0
    assert _comparable(parted).equals(_comparable(single))


def test_partitioned_subset_of_rules_without_a_cluster(engine):
    from gisapp.scaleout import run_rules_partitioned

    inputs = api.rule_inputs("per_mu", as_of=DEMO_AS_OF, engine=engine)
    parted = run_rules_partitioned(inputs, DEMO_AS_OF, rule_names=["per_mu"], npartitions=3)
    single = evaluate_rules(inputs, DEMO_AS_OF, rule_names=["per_mu"])
    assert set(parted.rule) == {"per_mu"}
    assert _comparable(parted).equals(_comparable(single))
