"""The DataCite part of a submission as a form: title, authors with affiliations,
description, license, related DOIs (and an optional short name)."""

from __future__ import annotations

import re
from typing import Any

import ipywidgets as w

LICENSES = ["", "CC-BY-4.0", "CC0-1.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "ODC-BY-1.0", "MIT", "Apache-2.0"]
DOI = re.compile(r"^10\.\d{4,9}/\S+$")


class FormError(ValueError):
    """A form field that cannot be submitted as it is; says which and how to fix it."""


def parse_dois(text: str) -> list[str]:
    """DOIs one per line or comma-separated; ``doi:`` and ``https://doi.org/`` prefixes removed."""
    out = []
    for raw in re.split(r"[\s,;]+", text.strip()):
        if not raw:
            continue
        doi = re.sub(r"^(doi:|https?://(dx\.)?doi\.org/)", "", raw, flags=re.I)
        if not DOI.match(doi):
            raise FormError(f"related DOI {raw!r} is not a DOI; write it as 10.1234/abcd (one per line)")
        out.append(doi)
    return out


class AuthorRow(w.HBox):
    def __init__(self, name: str = "", affiliation: str = "") -> None:
        self.name = w.Text(value=name, placeholder="Family, Given", layout=w.Layout(width="220px"))
        self.affiliation = w.Text(
            value=affiliation, placeholder="affiliation(s), ; between", layout=w.Layout(width="260px")
        )
        self.name.add_class("mh-author-name")
        self.affiliation.add_class("mh-author-affiliation")
        self.remove = w.Button(icon="trash", tooltip="remove this author", layout=w.Layout(width="36px"))
        super().__init__([self.name, self.affiliation, self.remove])

    def value(self) -> dict[str, Any] | None:
        name = self.name.value.strip()
        if not name:
            return None
        affs = [a.strip() for a in self.affiliation.value.split(";") if a.strip()]
        return {"name": name, "affiliation": affs}


class DataCiteForm(w.VBox):
    """:meth:`metadata` returns the keyword arguments of ``hub.submit`` it fills."""

    def __init__(self) -> None:
        self.title = w.Text(
            placeholder="what the dataset is", description="Title", layout=w.Layout(width="560px")
        )
        self.title.add_class("mh-title")
        self.source_name = w.Text(
            placeholder="optional short name (lowercase, digits, _)",
            description="Name",
            layout=w.Layout(width="560px"),
        )
        self.description = w.Textarea(
            placeholder="how the data was made, what it contains",
            description="Description",
            layout=w.Layout(width="560px", height="70px"),
        )
        self.license = w.Combobox(
            options=LICENSES[1:], placeholder="e.g. CC-BY-4.0", description="License", ensure_option=False
        )
        self.related = w.Textarea(
            placeholder="10.1038/sdata.2016.134 (one per line)",
            description="Related DOIs",
            layout=w.Layout(width="560px", height="48px"),
        )
        self.authors = w.VBox()
        self.add_author_button = w.Button(
            description="Add author", icon="plus", layout=w.Layout(width="140px")
        )
        self.add_author_button.on_click(lambda _b: self.add_author())
        self.add_author()
        super().__init__(
            [
                self.title,
                w.HTML("<b>Authors</b> (name as <i>Family, Given</i>; affiliations separated by ;)"),
                self.authors,
                self.add_author_button,
                self.description,
                self.license,
                self.related,
                self.source_name,
            ]
        )
        self.add_class("mh-datacite")

    def add_author(self, name: str = "", affiliation: str = "") -> AuthorRow:
        row = AuthorRow(name, affiliation)
        row.remove.on_click(lambda _b: self.remove_author(row))
        self.authors.children = (*self.authors.children, row)
        return row

    def remove_author(self, row: AuthorRow) -> None:
        self.authors.children = tuple(r for r in self.authors.children if r is not row)
        if not self.authors.children:
            self.add_author()

    def metadata(self) -> dict[str, Any]:
        """``title``, ``authors`` (with affiliations) and the optional fields that are filled.

        Raises
        ------
        FormError
            Naming the field to fix (no title, no author, a malformed DOI).
        """
        title = self.title.value.strip()
        if not title:
            raise FormError("the dataset needs a title (the Title field)")
        authors = [a for a in (r.value() for r in self.authors.children) if a]
        if not authors:
            raise FormError("the dataset needs at least one author (Family, Given)")
        out: dict[str, Any] = {"title": title, "authors": authors}
        if self.description.value.strip():
            out["description"] = self.description.value.strip()
        if self.license.value.strip():
            out["license"] = self.license.value.strip()
        dois = parse_dois(self.related.value)
        if dois:
            out["related_dois"] = dois
        if self.source_name.value.strip():
            out["source_name"] = self.source_name.value.strip()
        return out
