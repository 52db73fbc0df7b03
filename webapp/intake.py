"""Turning an upload into alerts: several files, a zip of them, or (for the CLI) a folder.

Everything is read and parsed before anything is stored — the caller stores the accepted alerts
in one transaction — so an upload is never half-stored. Files that are not alerts are listed
with the parser's own reason and the others go ahead. Limits, per upload:

* at most BATCH_MAX_FILES alerts and BATCH_MAX_BYTES uncompressed in total: beyond either, the
  whole upload is refused before anything is decompressed (a zip member's size comes from the
  archive's directory, and reading stops at that size, so a forged directory cannot exceed it);
* each alert at most MAX_ALERT_BYTES;
* a member compressed more than BATCH_MAX_RATIO to 1 is refused unread (zip bombs);
* archives inside the archive are refused unopened (nested bombs), as are encrypted members;
* folders and the metadata macOS adds to archives (``__MACOSX/``, ``._*``, ``.DS_Store``) are
  skipped without comment.

Parsing is CPU work: the reader yields to other greenlets every few milliseconds, so a large
batch does not hold up the worker's other requests and streams.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import gevent

from agents.alerts import AlertError, parse_alert
from webapp.templating import size_label

ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".rar", ".zst")
ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!", b"(\xb5/\xfd")
YIELD_EVERY = 0.01  # seconds of parsing before letting other greenlets run


@dataclass(frozen=True)
class Limits:
    max_files: int
    max_alert_bytes: int
    max_total_bytes: int
    max_ratio: int

    @classmethod
    def from_settings(cls, settings) -> Limits:
        return cls(settings.batch_max_files, settings.max_alert_bytes, settings.batch_max_bytes,
                   settings.batch_max_ratio)


@dataclass(frozen=True)
class Accepted:
    filename: str
    raw: bytes
    alert: object  # agents.alerts.Alert


@dataclass(frozen=True)
class Refused:
    filename: str
    reason: str


@dataclass
class Intake:
    accepted: list[Accepted] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    @property
    def files(self) -> int:
        return len(self.accepted) + len(self.refused)


class UploadRefused(Exception):
    """The whole upload is refused (a limit, or an unreadable archive): nothing is stored."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


def is_archive(filename: str, head: bytes = b"") -> bool:
    return filename.lower().endswith(ARCHIVE_SUFFIXES) or head.startswith(ARCHIVE_MAGIC)


def _skipped(name: str) -> bool:
    base = name.rstrip("/").rsplit("/", 1)[-1]
    return name.endswith("/") or name.startswith("__MACOSX/") or base.startswith("._") or base == ".DS_Store"


@dataclass
class _Reader:
    """Accumulates files against the limits, parsing each into an alert or a refusal."""

    limits: Limits
    intake: Intake = field(default_factory=Intake)
    total: int = 0
    last_yield: float = field(default_factory=time.monotonic)

    def count(self, files: int, size: int) -> None:
        """Refuse the whole upload if ``files`` more files of ``size`` bytes would pass a limit."""
        limits = self.limits
        if self.intake.files + files > limits.max_files:
            raise UploadRefused(f"The upload holds more than {limits.max_files:,} files; send at most "
                                f"{limits.max_files:,} alerts at once.", 413)
        if self.total + size > limits.max_total_bytes:
            raise UploadRefused(f"The upload holds more than {size_label(limits.max_total_bytes)} of alerts "
                                f"(uncompressed); send at most {size_label(limits.max_total_bytes)} at once.", 413)
        self.total += size

    def refuse(self, filename: str, reason: str) -> None:
        self.intake.refused.append(Refused(filename, reason))

    def add(self, filename: str, raw: bytes) -> None:
        if len(raw) > self.limits.max_alert_bytes:
            self.refuse(filename, f"larger than the {size_label(self.limits.max_alert_bytes)} limit for one alert.")
            return
        if is_archive(filename, raw[:8]):
            self.refuse(filename, "an archive inside the upload; archives are opened only at the top level.")
            return
        try:
            alert = parse_alert(raw)
        except AlertError as exc:
            self.refuse(filename, exc.message)
        else:
            self.intake.accepted.append(Accepted(filename, raw, alert))
        if time.monotonic() - self.last_yield > YIELD_EVERY:
            gevent.sleep(0)
            self.last_yield = time.monotonic()

    def add_archive(self, name: str, stream: IO[bytes]) -> None:
        try:
            archive = zipfile.ZipFile(stream)
            members = [m for m in archive.infolist() if not _skipped(m.filename)]
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise UploadRefused(f"{name} is not a zip archive this app can read: {exc}.") from None
        self.count(len(members), sum(min(m.file_size, self.limits.max_alert_bytes) for m in members))
        for member in members:
            label = f"{name}/{member.filename}"[:300]
            if member.flag_bits & 0x1:
                self.refuse(label, "encrypted; send the alerts unencrypted.")
            elif member.file_size > self.limits.max_alert_bytes:
                self.refuse(label, f"larger than the {size_label(self.limits.max_alert_bytes)} limit for one alert.")
            elif member.file_size > self.limits.max_ratio * max(member.compress_size, 1):
                self.refuse(label, f"compressed more than {self.limits.max_ratio}:1, which only a zip bomb needs; "
                                   "not opened.")
            elif is_archive(member.filename):
                self.refuse(label, "an archive inside the archive; archives are opened only at the top level.")
            else:
                try:
                    raw = archive.read(member)  # reads at most the declared size; a bad CRC raises
                except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
                    self.refuse(label, f"could not be read from the archive: {exc}.")
                    continue
                self.add(label, raw)


def read_uploads(uploads: Iterable, limits: Limits) -> Intake:
    """Files of a multipart upload (werkzeug FileStorage): alerts, and zips of alerts."""
    reader = _Reader(limits)
    for upload in uploads:
        name = (upload.filename or "upload")[:200]
        head = upload.stream.read(8)
        upload.stream.seek(0)
        if name.lower().endswith(".zip") or head.startswith(b"PK\x03\x04"):
            reader.add_archive(name, upload.stream)
            continue
        raw = upload.stream.read(limits.max_alert_bytes + 1)
        reader.count(1, min(len(raw), limits.max_alert_bytes))
        if is_archive(name, head):
            reader.refuse(name, "an archive this app does not open; send alerts as .xml files or a .zip.")
        else:
            reader.add(name, raw)
    return reader.intake


def read_path(path: Path, limits: Limits) -> Intake:
    """A folder (its .xml files, recursively, in name order) or a zip, for the CLI."""
    reader = _Reader(limits)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not _skipped(p.relative_to(path).as_posix()))
        for file in files:
            name = file.relative_to(path).as_posix()
            if is_archive(name):
                reader.count(1, 0)
                reader.refuse(name, "an archive inside the folder; archives are opened only at the top level.")
                continue
            reader.count(1, min(file.stat().st_size, limits.max_alert_bytes))
            with file.open("rb") as handle:
                reader.add(name, handle.read(limits.max_alert_bytes + 1))
    else:
        with path.open("rb") as handle:
            reader.add_archive(path.name, handle)
    return reader.intake
