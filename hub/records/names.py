"""People's names as DataCite records them: a family name and a given name.

A submission's authors are written ``"Family, Given"`` (MDF's habit) or as people say them
(``"Marie Curie"``); :func:`personal_name` splits either with nameparser (titles such as
"Dr." dropped, particles such as "van der" kept with the family name) and refuses a name it
cannot split, saying which form to use.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.exceptions import ValidationError, quoted

#: The form a personal name is written in, as error messages show it.
EXPECTED_FORM = '"Family, Given" (e.g. "Curie, Marie")'


@dataclass(frozen=True)
class PersonalName:
    """A person's family and given names.

    Attributes
    ----------
    family : str
        The family name, with its particles (``"van der Waals"``).
    given : str
        The given names (first and middle).
    """

    family: str
    given: str

    @property
    def display(self) -> str:
        """``"Family, Given"``: DataCite's ``name`` of a person."""
        return f"{self.family}, {self.given}"


def personal_name(text: str) -> PersonalName:
    """Split ``text`` into family and given names.

    >>> personal_name("Marie Curie")
    PersonalName(family='Curie', given='Marie')
    >>> personal_name("van der Waals, Johannes Diderik").display
    'van der Waals, Johannes Diderik'

    Raises
    ------
    ValidationError
        When ``text`` does not give both a family and a given name (``"Curie"``), naming
        :data:`EXPECTED_FORM`.
    """
    from nameparser import HumanName  # half a second to import: only when a name is parsed

    parsed = HumanName(text.strip())
    family = str(parsed.last).strip()
    given = " ".join(p for p in (str(parsed.first).strip(), str(parsed.middle).strip()) if p)
    if not family or not given:
        raise ValidationError(
            f"author {quoted(text)} cannot be split into a family and a given name; write it as "
            f"{EXPECTED_FORM}, or give an organisation as "
            '{"name": ..., "nameType": "Organizational"}',
            [{"field": "authors", "message": f"expected {EXPECTED_FORM}"}],
        )
    return PersonalName(family=family, given=given)


def organisation(name: str) -> dict[str, str]:
    """An organisation as an author (a DataCite creator of ``nameType`` ``Organizational``).

    >>> organisation("ASE developers")
    {'name': 'ASE developers', 'nameType': 'Organizational'}
    """
    return {"name": name, "nameType": "Organizational"}


__all__ = ["EXPECTED_FORM", "PersonalName", "organisation", "personal_name"]
