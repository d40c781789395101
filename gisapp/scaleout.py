"""Run the rules partitioned with dask-geopandas, for analyses larger than one machine.

The unit of partition is the zone: every zone-local rule (idle land, per-mu classes ranked within
a zone, grants, mixed use, green balance, assessment coverage, boundary QA) gives for a zone the
same findings whether it sees that zone alone or the whole city. The parcels become a
dask-geopandas GeoDataFrame with whole zones per partition; each partition gathers the rows of the
other input frames that belong to its parcels and zones and runs the very same rule functions
(:func:`gisapp.rules.evaluate.evaluate_rules`). Rules that compare zones or districts with each other
(zone performance ranking, quota ledgers) run once on the whole, small frames.

On this machine a ``distributed.LocalCluster`` is enough; on a real cluster pass a
``distributed.Client`` connected to its scheduler (see docs/scaleout.md). The result equals the
single-process run (tests/db/test_scaleout.py checks it).

Example:
    >>> from distributed import Client, LocalCluster
    >>> with LocalCluster(n_workers=2, threads_per_worker=1) as lc, Client(lc) as client:  # doctest: +SKIP
    ...     findings = run_rules_partitioned(inputs, as_of, client=client, npartitions=4)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from gisapp.rules.base import FINDING_COLUMNS


def split_rules(rule_names: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """(zone-local rule names, whole-city rule names) among ``rule_names`` (all when None)."""
    from gisapp.rules.registry import modules_for

    local, whole = [], []
    for module in modules_for(rule_names):
        names = [s.name for s in module.SPECS if not rule_names or s.name in rule_names]
        (local if getattr(module, "ZONE_LOCAL", False) else whole).extend(names)
    return local, whole


def restrict(inputs: Mapping[str, pd.DataFrame], zone_ids: set[int]) -> dict[str, pd.DataFrame]:
    """The rows of every input frame that belong to ``zone_ids`` (reference frames whole)."""
    parcels = inputs.get("parcels")
    parcel_ids: set[int] = set()
    if parcels is not None:
        parcel_ids = set(parcels.loc[parcels["zone_id"].isin(zone_ids), "id"].astype(int))
    grants = inputs.get("land_grants")
    grant_ids: set[int] = set()
    if grants is not None:
        grant_ids = set(grants.loc[grants["parcel_id"].isin(parcel_ids), "id"].astype(int))
    out: dict[str, pd.DataFrame] = {}
    for name, frame in inputs.items():
        if name in ("zones",):
            out[name] = frame[frame["id"].isin(zone_ids)]
        elif "zone_id" in frame.columns and name not in ("quota_accounts", "parameter_overrides"):
            out[name] = frame[frame["zone_id"].isin(zone_ids)]
        elif "parcel_id" in frame.columns:
            out[name] = frame[frame["parcel_id"].isin(parcel_ids)]
        elif "grant_id" in frame.columns and name != "quota_accounts":
            out[name] = frame[frame["grant_id"].isin(grant_ids)]
        else:
            out[name] = frame
    return out


def _empty_findings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FINDING_COLUMNS})


def _evaluate_partition(part: pd.DataFrame, inputs: Mapping[str, pd.DataFrame], as_of: dt.date,
                        rule_names: list[str]) -> pd.DataFrame:
    from gisapp.rules.evaluate import evaluate_rules

    zone_ids = set(pd.unique(part["zone_id"]).astype(int).tolist())
    if not zone_ids:
        return _empty_findings()
    found = evaluate_rules(restrict(inputs, zone_ids), as_of, rule_names=rule_names)
    return found[FINDING_COLUMNS].astype(object)


def zone_partitions(parcels: pd.DataFrame, npartitions: int):
    """A dask-geopandas frame of the parcels with whole zones per partition (largest zones spread)."""
    import dask_geopandas

    sizes = parcels.groupby("zone_id").size().sort_values(ascending=False)
    # greedy: each zone to the lightest partition, so partitions carry similar numbers of parcels
    load = np.zeros(max(1, npartitions))
    bucket = {}
    for zone_id, n in sizes.items():
        k = int(np.argmin(load))
        bucket[zone_id] = k
        load[k] += n
    frame = parcels.assign(_part=parcels["zone_id"].map(bucket)).sort_values(["_part", "zone_id", "id"])
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame), index=frame.index, crs=4490))
    used = sorted(frame["_part"].unique())
    frame = frame.set_index("_part", drop=False)
    divisions = [*used, used[-1]]
    return dask_geopandas.from_geopandas(frame, npartitions=1).repartition(divisions=divisions, force=True) \
        if len(used) > 1 else dask_geopandas.from_geopandas(frame, npartitions=1)


def run_rules_partitioned(inputs: Mapping[str, pd.DataFrame], as_of: dt.date, rule_names: Sequence[str] | None = None,
                          client=None, npartitions: int | None = None) -> pd.DataFrame:
    """Findings of the rules, zone-local ones computed partition by partition on ``client``.

    ``inputs`` are the rule input frames (:func:`gisapp.api.rule_inputs`); ``client`` a
    ``distributed.Client`` (None: dask's default scheduler in this process).
    """
    from gisapp.rules.evaluate import evaluate_rules

    names = list(rule_names) if rule_names else None
    local, whole = split_rules(names)
    parts = []
    if local:
        parcels = inputs.get("parcels_geom") if "parcels_geom" in inputs else inputs["parcels"]
        if "parcels" in inputs:
            parcels = inputs["parcels"].merge(
                inputs["parcels_geom"][["id", "geom"]], on="id", how="left") if "parcels_geom" in inputs else inputs["parcels"]
            if "geom" in parcels.columns:
                parcels = gpd.GeoDataFrame(parcels, geometry="geom", crs=4490)
        n = npartitions or (sum(client.nthreads().values()) * 2 if client is not None else 4)
        ddf = zone_partitions(parcels, n)
        # one future for the whole dict (scattering a dict would scatter its values one by one)
        shared = client.scatter([dict(inputs)], broadcast=True)[0] if client is not None else dict(inputs)
        meta = _empty_findings()
        result = ddf.map_partitions(_evaluate_partition, shared, as_of, local, meta=meta, align_dataframes=False)
        parts.append(result.compute() if client is None else client.compute(result).result())
    if whole:
        parts.append(evaluate_rules(dict(inputs), as_of, rule_names=whole)[FINDING_COLUMNS].astype(object))
    if not parts:
        return _empty_findings()
    return pd.concat(parts, ignore_index=True)
