"""`matterhub batch --over-search`: one run per search hit, hit fields filling parameters."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from hub import Hub
from hub.cli import main


def test_batch_over_a_search(tmp_path, make_nb):
    data = tmp_path / "gaps"
    data.mkdir()
    (data / "gaps.csv").write_text("formula,band_gap\nNaF,11.5\nGaAs,1.42\nSi,1.1\nCu,0\n")
    home = tmp_path / "hub"
    hub = Hub(home, progress=False)
    sub = hub.submit(
        data,
        title="Gaps",
        authors=["Doe, A"],
        mapping={"material.composition": "formula", "custom.band_gap": "band_gap"},
    )
    assert sub.status == "complete", sub.report()
    hub.close()
    nb = make_nb(
        "gap.ipynb",
        "composition = ''\nband_gap = 0.0\nrecord_id = ''",
        "from hub.notebooks import record\nrecord('twice', 2 * band_gap)\nrecord('who', composition + '@' + record_id)",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "--hub",
            str(home),
            "-q",
            "batch",
            str(nb),
            "--over-search",
            "custom.band_gap:>1",
            "--out",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out / "results.parquet").sort_values("band_gap")
    assert list(table["composition"]) == ["Si", "GaAs", "NaF"]
    assert list(table["twice"]) == [2.2, 2.84, 23.0]
    assert all(
        w.startswith(f"{c}@{sub.source_id}.") for c, w in zip(table["composition"], table["who"], strict=True)
    )
