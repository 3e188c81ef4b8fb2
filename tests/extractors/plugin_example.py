"""A third-party extractor, registered in a test through an entry point."""

from __future__ import annotations

from pathlib import Path

from hub.extractors import ExtractionContext, Extractor


class UpperExtractor(Extractor):
    name = "thirdparty"
    description = "Upper-cases .upper files (test plugin)"
    provides = ("custom",)
    patterns = ("*.upper",)

    def extract(self, group: tuple[Path, ...], context: ExtractionContext) -> dict:
        return {"custom": {"upper": group[0].read_text().upper()}}
