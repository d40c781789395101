"""Two people edit the same parcel at the same moment against the running server: one edit is
saved, the other is refused as a conflict with the current values, and nothing is lost."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import requests
import sqlalchemy as sa

pytestmark = pytest.mark.db


def test_two_concurrent_edits_of_one_parcel_one_succeeds_one_conflicts(
    isolated_server, isolated_engine, make_user, login
):
    people = [make_user("zone_editor", ["songjiang"]) for _ in range(2)]
    sessions = []
    for person in people:
        session = requests.Session()
        login(session, person.username, person.password, base_url=isolated_server)
        sessions.append(session)
    with isolated_engine.connect() as conn:
        parcel = (
            conn.execute(
                sa.text(
                    "SELECT p.id, p.code FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id "
                    "WHERE z.code = 'songjiang' AND p.status = 'in_production' ORDER BY p.id LIMIT 1"
                )
            )
            .mappings()
            .one()
        )
    url = f"{isolated_server}/api/edits/parcels/{parcel['code']}"
    # both read the same version, as two people with the page open would
    versions = [s.get(url, timeout=30).json()["parcel"]["version"] for s in sessions]
    assert versions[0] == versions[1]
    start = threading.Barrier(2)
    answers: list = [None, None]

    def edit(i: int, to_status: str) -> None:
        start.wait()
        answers[i] = sessions[i].post(
            f"{url}/status",
            timeout=30,
            json={
                "to_status": to_status,
                "changed_on": dt.date.today().isoformat(),
                "reason": f"editor {i}",
                "version": versions[i],
            },
        )

    threads = [
        threading.Thread(target=edit, args=(0, "low_efficiency")),
        threading.Thread(target=edit, args=(1, "idle")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409], [a.text for a in answers]
    winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
    loser = answers[1 - winner].json()
    won_status = ("low_efficiency", "idle")[winner]
    assert loser["current"]["status"] == won_status and loser["current"]["version"] == versions[0] + 1
    with isolated_engine.connect() as conn:
        status, version = conn.execute(
            sa.text("SELECT status, version FROM land.parcels WHERE id = :i"), {"i": parcel["id"]}
        ).one()
        history = (
            conn.execute(
                sa.text(
                    "SELECT reason FROM land.parcel_status_history WHERE parcel_id = :i "
                    "AND reason LIKE 'editor %'"
                ),
                {"i": parcel["id"]},
            )
            .scalars()
            .all()
        )
        audit = conn.execute(
            sa.text(
                "SELECT count(*) FROM audit.change_log WHERE table_name = 'parcels' "
                "AND row_id = :r AND action = 'UPDATE'"
            ),
            {"r": str(parcel["id"])},
        ).scalar()
    assert (status, version) == (won_status, versions[0] + 1)
    assert history == [f"editor {winner}"] and audit == 1
