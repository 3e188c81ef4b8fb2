"""Extractors: one module per file family.

Each extractor is registered through the ``matterhub.extractors`` entry point group.
"""

from hub.extractors.base import Extracted, ExtractionContext, Extractor, PartialExtractionWarning
from hub.extractors.registry import available_extractors, extractor_classes, get_extractor

__all__ = [
    "Extracted",
    "ExtractionContext",
    "Extractor",
    "PartialExtractionWarning",
    "available_extractors",
    "extractor_classes",
    "get_extractor",
]
