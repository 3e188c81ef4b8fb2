"""A live hub service holding real datasets (and one synthetic one), and the answers the
Globus Search API must give, worked out from the files themselves (never from the hub).

Datasets (source_name: what, who may see it):

- ``cifs``: MaterialsIO's 4 CIF files, public, 2018;
- ``minerals``: ASE's 8 COD mineral CIFs, public, 2021;
- ``dielectric``: matminer's 1,056 dielectric compounds (one record per row), public, 2016;
- ``synthetic``: 12,000 rows drawn with a fixed seed from the dielectric formulas, with a
  band gap and a measurement date each (one record per row), public, 2024;
- ``alice_secret``: a Gaussian 16 log, visible to alice only, 2022;
- ``lab_vasp``: a VASP run, visible to the group ``lab`` (alice), 2019;
- ``curated``: an extended-XYZ file, public v1 by alice, and a v2 waiting for curation
  (seen by alice and the curators, carol).

Users: alice (lab), bob, carol (curators), root (admin).
"""

from __future__ import annotations

import datetime as _dt
import os
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hub import Hub
from hub.access import Principal
from hub.service import create_app
from hub.service.settings import ServiceSettings
from hub.service.testing import LiveServer

USERS = {"alice": ["lab"], "bob": [], "carol": ["curators"], "root": ["admin"]}
AUTHORS = ["Ward, Logan"]
SYNTHETIC_ROWS = 12_000
SEED = 20240611
YEARS = {
    "cifs": 2018,
    "minerals": 2021,
    "dielectric": 2016,
    "synthetic": 2024,
    "alice_secret": 2022,
    "lab_vasp": 2019,
    "curated": 2020,
}
DIELECTRIC_MAPPING = {
    "material.composition": "formula",
    "custom.band_gap": "band_gap",
    "custom.n": "n",
    "custom.material_id": "material_id",
    "crystal_structure.volume": "volume",
    "crystal_structure.space_group_number": "space_group",
}
SYNTHETIC_MAPPING = {
    "material.composition": "formula",
    "custom.band_gap": "band_gap",
    "custom.measured": "measured",
}
_ELEMENT = re.compile(r"([A-Z][a-z]?)(\d*\.?\d*)")


def elements(formula: str) -> set[str]:
    """The element symbols of a chemical formula (``'Al2 O3'``, ``'Rb2Te'``)."""
    return {m.group(1) for m in _ELEMENT.finditer(formula)}


def cif_formulas(folder: Path) -> dict[str, str]:
    """``{file name: _chemical_formula_sum}`` of the CIF files of ``folder``."""
    out = {}
    for path in sorted(folder.glob("*.cif")):
        m = re.search(r"^_chemical_formula_sum\s+'?([^'\n]+)'?\s*$", path.read_text(errors="replace"), re.M)
        assert m, f"{path} has no _chemical_formula_sum"
        out[path.name] = m.group(1).strip()
    return out


def dielectric_table(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "matminer" / "dielectric_constant.csv", skiprows=1)


def synthetic_table(formulas: list[str]) -> pd.DataFrame:
    """12,000 rows: formulas of real compounds, band gaps and dates, from a fixed seed."""
    rng = random.Random(SEED)
    start = _dt.date(2000, 1, 1)
    rows = [
        {
            "formula": rng.choice(formulas),
            "band_gap": round(rng.uniform(0, 8), 3),
            "measured": (start + _dt.timedelta(days=rng.randrange(20 * 365))).isoformat(),
        }
        for _ in range(SYNTHETIC_ROWS)
    ]
    return pd.DataFrame(rows)


@dataclass
class Expected:
    """The data, read without the hub."""

    cifs: dict[str, str]
    minerals: dict[str, str]
    dielectric: pd.DataFrame
    synthetic: pd.DataFrame


class GlobusService:
    """The hub, its live service, users and tokens."""

    def __init__(self, home: Path, shared_data: Path, work: Path) -> None:
        self.shared = shared_data
        self.hub = Hub(home, progress=False)
        self.tokens: dict[str, str] = {}
        for name, groups in USERS.items():
            self.hub.users.ensure_user(name, groups)
            self.tokens[name], _ = self.hub.users.create_token(self.hub.principal, name, label="globus tests")
        dielectric = dielectric_table(shared_data)
        self.expected = Expected(
            cifs=cif_formulas(shared_data / "materialsio" / "crystal_structure"),
            minerals=cif_formulas(shared_data / "ase" / "minerals"),
            dielectric=dielectric,
            synthetic=synthetic_table(sorted(set(dielectric["formula"]))),
        )
        self._publish(work)
        settings = ServiceSettings(apis=("globus",))
        self.server = LiveServer(create_app(self.hub, settings, start_worker=False)).start()
        self.url = self.server.url
        self.base_url = self.url + "/globus-search/"

    def as_user(self, name: str | None) -> Hub:
        if name is None:
            return self.hub.acting_as(Principal(None))
        return self.hub.acting_as(self.hub.users.authenticate(self.tokens[name]))

    def _submit(self, who: str, source: Path, name: str, **kw: Any) -> None:
        sub = self.as_user(who).submit(
            source,
            title=name.replace("_", " ").title(),
            authors=AUTHORS,
            source_name=name,
            publicationYear=str(YEARS[name]),
            **kw,
        )
        assert sub.status == "complete" and not sub.errors, sub.report()

    def _publish(self, work: Path) -> None:
        data = self.shared
        self._submit("root", data / "materialsio" / "crystal_structure", "cifs")
        self._submit("root", data / "ase" / "minerals", "minerals")
        self._submit(
            "root", data / "matminer" / "dielectric_constant.csv", "dielectric", mapping=DIELECTRIC_MAPPING
        )
        rows = work / "synthetic"
        rows.mkdir()
        self.expected.synthetic.to_csv(rows / "synthetic.csv", index=False)
        self._submit("root", rows, "synthetic", mapping=SYNTHETIC_MAPPING)
        self._submit(
            "alice",
            data / "materialsio" / "gaussian" / "molecule.log",
            "alice_secret",
            visible_to=["user:alice"],
        )
        self._submit(
            "alice", data / "materialsio" / "vasp" / "AlNi_static_LDA", "lab_vasp", visible_to=["group:lab"]
        )
        self._submit("alice", data / "ase" / "opls_structure_ext.xyz", "curated")
        pending = self.as_user("alice").update_metadata(
            "curated", title="Curated, second version", curate=True
        )
        assert pending.metadata["mdf"]["status"] == "pending_curation"

        from hub.servables.dlhub import import_document

        self.servable = self.hub.publish_servable(
            import_document(data / "g4mp2" / "G4MP2-heavy-description.json")
        )

    def close(self) -> None:
        self.server.stop()
        self.hub.close()


@contextmanager
def search_url_env(url: str) -> Iterator[None]:
    """Point every Globus SDK ``SearchClient`` made without a base URL at ``url`` (as
    ``mdf_toolbox.translate_index`` makes one), so nothing leaves the loopback."""
    old = os.environ.get("GLOBUS_SDK_SERVICE_URL_SEARCH")
    os.environ["GLOBUS_SDK_SERVICE_URL_SEARCH"] = url
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("GLOBUS_SDK_SERVICE_URL_SEARCH", None)
        else:
            os.environ["GLOBUS_SDK_SERVICE_URL_SEARCH"] = old
