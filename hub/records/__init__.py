"""The metadata model: MDF dataset and record documents, DataCite, validation."""

from hub.records.datacite import DataCite, creators_from, to_datacite_json
from hub.records.dataset import DatasetDocument, slugify, source_id_of
from hub.records.record import BLOCKS, RecordDocument
from hub.records.validation import validate_dataset, validate_record

__all__ = [
    "BLOCKS",
    "DataCite",
    "DatasetDocument",
    "RecordDocument",
    "creators_from",
    "slugify",
    "source_id_of",
    "to_datacite_json",
    "validate_dataset",
    "validate_record",
]
