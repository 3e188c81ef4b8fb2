"""The working folders of runs (``hub/servables/sandbox.py``: :class:`RunFolders`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hub.servables.sandbox import RunFolders


def test_a_run_works_in_a_private_empty_folder_and_the_process_gets_its_folder_back(tmp_path: Path) -> None:
    folders = RunFolders(tmp_path / "w1")
    before = os.getcwd()
    with folders.use() as folder:
        assert Path(os.getcwd()) == folder and folder.parent == tmp_path / "w1"
        assert os.environ["TMPDIR"] == str(folder) and tempfile.gettempdir() == str(folder)
        assert (folder.stat().st_mode & 0o777) == 0o700 and not any(folder.iterdir())
    assert Path(os.getcwd()) == tmp_path / "w1"
    os.chdir(before)


def test_a_folder_left_empty_is_the_next_runs_and_one_written_in_is_removed(tmp_path: Path) -> None:
    folders = RunFolders(tmp_path)
    before = os.getcwd()
    with folders.use() as first:
        pass
    with folders.use() as second:
        assert second == first  # left as it was made: used again, not made again
        Path("scratch.txt").write_text("x")
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(b"y")
    assert not second.exists()
    with folders.use() as third:
        assert third != second and not any(third.iterdir())
        os.chmod(third, 0o755)  # a run that opens its folder to others: not used again
    assert not third.exists()
    with folders.use() as fourth:
        assert fourth not in (second, third) and not any(fourth.iterdir())
    os.chdir(before)
