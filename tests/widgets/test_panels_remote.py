"""The three panels over a REMOTE hub (``Hub("http://...", token=...)`` against a live hub
service on a loopback port): they use only the public Hub API, so they must behave as over
the embedded hub, which is asked directly for the expected answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hub.widgets import PublishPanel, SearchPanel, ServablePanel

from hub import Hub

KINDS = ["record", "dataset"]


def diffraction_spots(n: int, size: int = 32) -> np.ndarray:
    """An image with ``n`` x ``n`` bright spots, like a diffraction pattern."""
    y, x = np.mgrid[0:size, 0:size]
    return (np.cos(np.pi * n * x / size) * np.cos(np.pi * n * y / size)) ** 2


class Remote:
    """An embedded hub (the truth) served over HTTP, and a remote client of it as alice."""

    def __init__(self, home: Path, shared_data: Path) -> None:
        from hub.service import create_app
        from hub.service.testing import LiveServer

        self.hub = Hub(home, progress=False)
        for path, name in (
            (shared_data / "materialsio", "materialsio"),
            (shared_data / "ase" / "minerals", "minerals"),
        ):
            assert self.hub.submit(path, title=name, authors=["Ward, Logan"], source_name=name).ok
        self.hub.publish_servable(self.hub.describe(diffraction_spots, title="Spots", authors=["Doe, Jane"]))
        self.hub.users.ensure_user("alice", ["lab"])
        token, _ = self.hub.users.create_token(self.hub.principal, "alice", label="widget tests")
        self.server = LiveServer(create_app(self.hub)).start()
        self.client = Hub(self.server.url, token=token, progress=False)

    def close(self) -> None:
        self.client.close()
        self.server.stop()
        self.hub.close()


@pytest.fixture(scope="module")
def remote(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    pytest.importorskip("fastapi", reason="the hub service extra is not installed")
    r = Remote(tmp_path_factory.mktemp("remote-widgets"), shared_data)
    try:
        yield r
    finally:
        r.close()


def test_search_panel_over_a_remote_hub(remote: Remote, shared_data: Path, tmp_path: Path) -> None:
    client: Any = remote.client
    assert type(client).__name__ == "RemoteHub"
    panel = SearchPanel(client)
    assert panel.result.total == remote.hub.search("*", kinds=KINDS).total == 24
    assert "crystal_structure.volume" in panel.range_facets  # fields() came over HTTP
    panel.table.buttons["Si"].click()
    assert {h.id for h in panel.results.hits} == {
        h.id for h in remote.hub.search("material.elements:Si", kinds=KINDS, limit=20).hits
    }
    panel.query_box.submit("files.filename:diamond.cif")
    panel.table.buttons["Si"].click()
    panel.results.open_row(0)
    assert bytes(panel.detail.picture.value).startswith(b"\x89PNG")
    data = panel.detail.download_file()
    assert data == (shared_data / "materialsio" / "crystal_structure" / "diamond.cif").read_bytes()
    assert len(panel.download(tmp_path / "dl")) == 1


def test_publish_panel_over_a_remote_hub(remote: Remote, shared_data: Path) -> None:
    panel = PublishPanel(remote.client)
    panel.path.value = str(shared_data / "materialsio" / "crystal_structure")
    panel.form.title.value = "Remote crystals"
    panel.form.authors.children[0].name.value = "Ward, Logan"
    panel.publish()
    sub = panel.submission
    assert sub.status == "complete", panel.status.text
    assert sub.owner == "alice" and remote.hub.dataset(sub.source_id).n_records == 4
    assert panel.progress.seen[-1] == ("complete", None) and panel.progress.bar.value == 6


def test_servable_panel_over_a_remote_hub(remote: Remote) -> None:
    panel = ServablePanel(remote.client)
    assert panel.find() == ["root/diffraction_spots"]
    panel.form.input_fields["input"].value = 3
    out = panel.run()
    np.testing.assert_allclose(out, diffraction_spots(3))
    assert any("mh-output-image" in c._dom_classes for c in panel.output_box.children)
    panel.asynchronous.value = True
    panel.form.input_fields["input"].value = 2
    panel.run()
    np.testing.assert_allclose(panel.wait(), diffraction_spots(2))
    assert panel.task_states[-1] == "completed"
