"""Safe unpacking: path escapes, links and bombs refuse the archive, leaving nothing."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from hub.connect.archives import ArchiveLimits, extract_archive
from hub.exceptions import UnsafeArchiveError


def test_good_zip_and_tar(tmp_path):
    z = tmp_path / "good.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("run/a.txt", "a")
        zf.writestr("run/sub/b.txt", "b")
    out = extract_archive(z, tmp_path / "z")
    assert (out / "run" / "sub" / "b.txt").read_text() == "b"

    t = tmp_path / "good.tar.gz"
    with tarfile.open(t, "w:gz") as tf:
        data = b"hello"
        info = tarfile.TarInfo("x/hello.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    assert (extract_archive(t, tmp_path / "t") / "x" / "hello.txt").read_bytes() == b"hello"


@pytest.mark.parametrize("name", ["../escape", "/etc/evil", "a/../../escape"])
def test_member_escaping_destination_is_refused(tmp_path, name):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr(name, "boom")
    dest = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError, match="outside"):
        extract_archive(z, dest)
    assert not dest.exists()
    assert not (tmp_path / "escape").exists()


def test_tar_symlink_member_is_refused(tmp_path):
    t = tmp_path / "link.tar"
    with tarfile.open(t, "w") as tf:
        info = tarfile.TarInfo("passwd")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(UnsafeArchiveError, match="link"):
        extract_archive(t, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_zip_bomb_is_refused_by_ratio(tmp_path):
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * (20 * 1024 * 1024))
    assert z.stat().st_size < 100_000
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        extract_archive(z, tmp_path / "out", ArchiveLimits(max_ratio=50))
    assert not (tmp_path / "out").exists()


def test_lying_declared_size_is_caught_while_writing(tmp_path):
    """A member whose header understates its size is stopped by the streaming budget."""
    z = tmp_path / "liar.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * (4 * 1024 * 1024))
    limits = ArchiveLimits(max_size=1024 * 1024, max_ratio=10_000)
    with pytest.raises(UnsafeArchiveError, match="expands to more than"):
        extract_archive(z, tmp_path / "out", limits)


def test_damaged_archive(tmp_path):
    z = tmp_path / "broken.zip"
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("a.txt", "a" * 1000)
    z.write_bytes(good.getvalue()[:-30])
    with pytest.raises(UnsafeArchiveError):
        extract_archive(z, tmp_path / "out")
    assert not (tmp_path / "out").exists()
