"""Which of the hub's indexes a Globus Search index id names.

MDF's and DLHub's clients address Globus Search indexes by UUID or by a short name
(``mdf_toolbox.translate_index`` knows both).  Every id is accepted here: the MDF
ones name the hub's datasets-and-records index, the DLHub ones its servables
index, and any other id the datasets-and-records index (the hub's default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

IndexKind = Literal["mdf", "dlhub"]

#: Globus Search index UUIDs of MDF and DLHub, by the names their clients use.
KNOWN_UUIDS: dict[str, str] = {
    "mdf": "1a57bbe5-5272-477f-9d31-343b8258b7a5",
    "mdf-test": "5acded0c-a534-45af-84be-dcf042e36412",
    "mdf-dev": "aeccc263-f083-45f5-ab1d-08ee702b3384",
    "dlhub": "847c9105-18a0-4ffb-8a71-03dd76dfcc9d",
    "dlhub-test": "5c89e0a9-00e5-4171-b415-814fe4d0b8af",
}
_KIND_OF_NAME: dict[str, IndexKind] = {name: "dlhub" if "dlhub" in name else "mdf" for name in KNOWN_UUIDS}
_KIND_OF_ID: dict[str, IndexKind] = {
    **_KIND_OF_NAME,
    **{uuid: _KIND_OF_NAME[name] for name, uuid in KNOWN_UUIDS.items()},
}

_DESCRIPTIONS: dict[IndexKind, tuple[str, str]] = {
    "mdf": (
        "MatterHub datasets and records",
        "The datasets and records of this MatterHub, in MDF's document shape "
        "(mdf, dc, material, crystal_structure, dft, files, ...).",
    ),
    "dlhub": (
        "MatterHub servables",
        "The servables (models and functions) of this MatterHub, in DLHub's document shape.",
    ),
}


@dataclass(frozen=True)
class GlobusIndex:
    """One Globus Search index id and the hub index it stands for."""

    id: str
    kind: IndexKind

    @property
    def display_name(self) -> str:
        """The index's display name (``GET /v1/index/{index_id}``)."""
        return _DESCRIPTIONS[self.kind][0]

    @property
    def description(self) -> str:
        """What the index holds, in a sentence (``GET /v1/index/{index_id}``)."""
        return _DESCRIPTIONS[self.kind][1]

    @property
    def kinds(self) -> list[str]:
        """The hub document kinds this index holds."""
        return ["servable"] if self.kind == "dlhub" else ["dataset", "record"]


def resolve(index_id: str) -> GlobusIndex:
    """The index ``index_id`` names (case-insensitive names and UUIDs; anything else: MDF's)."""
    return GlobusIndex(index_id, _KIND_OF_ID.get(index_id.strip().lower(), "mdf"))
