"""Uploads of many alerts: several files, zips, folders, and the limits that keep them safe."""

from __future__ import annotations

import io
import zipfile

import pytest
from werkzeug.datastructures import FileStorage

from tests.conftest import SAMPLES
from webapp.intake import Limits, UploadRefused, read_path, read_uploads

LIMITS = Limits(max_files=50, max_alert_bytes=1024 * 1024, max_total_bytes=4 * 1024 * 1024, max_ratio=100)
NAMES = sorted(p.name for p in SAMPLES.glob("*.xml"))


def zipped(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def upload(name: str, content: bytes) -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=name)


def test_a_zip_gives_one_alert_per_file_and_lists_the_refused_with_the_parsers_reason():
    members = {f"alerts/{n}": (SAMPLES / n).read_bytes() for n in NAMES}
    members |= {"alerts/broken.xml": b"<SMARTSAlert><AlertID>1", "alerts/inner.zip": zipped({"a.xml": b"x"}),
                "__MACOSX/alerts/._broken.xml": b"junk", "alerts/.DS_Store": b"junk", "alerts/empty/": b""}
    received = read_uploads([upload("batch.zip", zipped(members))], LIMITS)
    assert [a.filename for a in received.accepted] == [f"batch.zip/alerts/{n}" for n in NAMES]
    assert [a.alert.alert_id for a in received.accepted][:1] and all(a.raw for a in received.accepted)
    refused = {r.filename: r.reason for r in received.refused}
    assert set(refused) == {"batch.zip/alerts/broken.xml", "batch.zip/alerts/inner.zip"}  # junk skipped silently
    assert "not well-formed XML" in refused["batch.zip/alerts/broken.xml"]
    assert "archive inside the archive" in refused["batch.zip/alerts/inner.zip"]


def test_several_files_at_once_with_a_zip_among_them():
    files = [upload(n, (SAMPLES / n).read_bytes()) for n in NAMES[:2]]
    files += [upload("more.zip", zipped({NAMES[2]: (SAMPLES / NAMES[2]).read_bytes()})),
              upload("notes.txt", b"hello"), upload("old.tar.gz", b"\x1f\x8b\x08\x00rest")]
    received = read_uploads(files, LIMITS)
    assert [a.filename for a in received.accepted] == [NAMES[0], NAMES[1], f"more.zip/{NAMES[2]}"]
    refused = {r.filename: r.reason for r in received.refused}
    assert "Unsupported" in refused["notes.txt"] or "XML" in refused["notes.txt"]
    assert "does not open" in refused["old.tar.gz"]


@pytest.mark.parametrize(("limits", "expected"), [
    (Limits(3, 1024 * 1024, 4 * 1024 * 1024, 100), "more than 3 files"),
    (Limits(50, 1024 * 1024, 20 * 1024, 100), "more than 20 KiB of alerts"),
])
def test_over_the_file_count_or_total_size_the_whole_upload_is_refused(limits, expected):
    members = {n: (SAMPLES / n).read_bytes() for n in NAMES}
    with pytest.raises(UploadRefused) as refused:
        read_uploads([upload("batch.zip", zipped(members))], limits)
    assert expected in refused.value.message and refused.value.status == 413


def test_a_zip_bomb_member_is_refused_unread():
    bomb = b"<SMARTSAlert>" + b" " * 900_000 + b"</SMARTSAlert>"  # ~1000:1 with deflate
    received = read_uploads([upload("b.zip", zipped({"bomb.xml": bomb, NAMES[0]: (SAMPLES / NAMES[0]).read_bytes()}))],
                            LIMITS)
    assert [r.filename for r in received.refused] == ["b.zip/bomb.xml"]
    assert "compressed more than 100:1" in received.refused[0].reason
    assert len(received.accepted) == 1


def test_a_member_over_the_alert_limit_and_a_forged_size_are_refused():
    big = b"<SMARTSAlert>" + bytes(range(256)) * 5000 + b"</SMARTSAlert>"  # incompressible, over 1 MiB
    received = read_uploads([upload("b.zip", zipped({"big.xml": big}, zipfile.ZIP_STORED))], LIMITS)
    assert "larger than the 1 MiB limit" in received.refused[0].reason

    # A directory that understates a member's size: reading stops at the declared size, and the
    # check of the content's CRC refuses what was cut.
    honest = zipped({"a.xml": (SAMPLES / NAMES[0]).read_bytes()}, zipfile.ZIP_STORED)
    size = len((SAMPLES / NAMES[0]).read_bytes()).to_bytes(4, "little")
    forged = honest.replace(size, (10).to_bytes(4, "little"))
    received = read_uploads([upload("f.zip", forged)], LIMITS)
    assert not received.accepted and "could not be read" in received.refused[0].reason


def test_a_file_that_is_not_a_zip_is_refused_whole():
    with pytest.raises(UploadRefused) as refused:
        read_uploads([upload("alerts.zip", b"PK\x03\x04 not really")], LIMITS)
    assert "alerts.zip is not a zip archive" in refused.value.message and refused.value.status == 422


def test_a_folder_is_read_recursively_in_name_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / NAMES[1]).write_bytes((SAMPLES / NAMES[1]).read_bytes())
    (tmp_path / NAMES[0]).write_bytes((SAMPLES / NAMES[0]).read_bytes())
    (tmp_path / "nested.zip").write_bytes(zipped({"x.xml": b"x"}))
    received = read_path(tmp_path, LIMITS)
    assert [a.filename for a in received.accepted] == [f"b/{NAMES[1]}", NAMES[0]]
    assert [r.filename for r in received.refused] == ["nested.zip"]
