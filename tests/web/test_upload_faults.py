"""An upload to a server whose temporary folder is full (issue 16): the import page answers with a
sentence in the user's language (507), names no server path, keeps no deleted file open and
leaves nothing behind, whether the folder fills while the form is parsed (a large file, spooled
to disk) or while the page keeps its own copy of the upload (a small one, held in memory).

The full folder is a real 64 KiB tmpfs (mounting one needs root; skipped otherwise)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.signin import form_token

pytestmark = pytest.mark.db

ADMIN = ("upload.admin", "upload-admin-password", "bureau_admin")
BOUNDARY = "gisappuploadboundary"


@pytest.fixture(scope="module")
def full_tmp():
    folder = Path(tempfile.mkdtemp(prefix="gisapp-fulltmp-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)
        folder.rmdir()


@pytest.fixture(scope="module")
def admin_client(engine):
    from gisapp.web.app import create_app
    from tests.web.conftest import sign_in

    client = create_app().server.test_client()
    sign_in(client, engine, ADMIN)
    return client


def _multipart(fields: dict[str, str], filename: str, content: bytes) -> bytes:
    # built by hand: the test client would spool the body through the (full) temporary folder itself
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 "Content-Type: application/geo+json\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def _open_deleted_files(folder: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


@pytest.mark.parametrize("size", [2_000_000, 100_000], ids=["spooled-while-parsing", "kept-by-the-page"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_upload_the_temporary_folder_cannot_hold_gets_a_sentence(admin_client, engine, full_tmp, monkeypatch,
                                                                   size, lang):
    page = admin_client.get(f"/admin/import?lang={lang}").get_data(as_text=True)
    token = form_token(page)
    content = json.dumps({"type": "FeatureCollection", "features": [], "padding": "x" * size}).encode()
    body = _multipart({"csrf": token, "kind": "parcels"}, "survey.geojson", content)
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar()
    monkeypatch.setattr(tempfile, "tempdir", str(full_tmp))
    resp = admin_client.post(f"/admin/import?lang={lang}", data=body,
                             content_type=f"multipart/form-data; boundary={BOUNDARY}")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 507, text[:300]
    assert ("临时文件夹已满" if lang == "zh" else "temporary folder is full") in text
    assert str(full_tmp) not in text and "Traceback" not in text
    # nothing held open, nothing left behind: the whole 64 KiB is free again
    assert _open_deleted_files(full_tmp) == []
    assert list(full_tmp.iterdir()) == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar() == before
