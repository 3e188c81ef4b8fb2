"""A pipeline's document checked and pinned as its publisher, before it is registered.

:func:`checked` is what the servable registry calls on every document it publishes
(``publish`` and ``publish_uploaded``, so the remote path too); any other type passes
as it is.  For a pipeline it:

- resolves each servable step as the publisher (a step the publisher may not see, a
  pipeline, or an entry with nothing to run is refused) and records the exact version:
  a step named ``owner/name@3`` keeps version 3; a step named ``owner/name`` keeps the
  latest version at publish time.  Runs always run the recorded versions: a pipeline
  does not follow its steps' newer versions (publish a new version of the pipeline for
  that), so a published pipeline version is citable and its runs reproducible;
- takes every servable step's input and output schema from the catalog, and each data
  source's from the source, not from the uploaded document;
- checks the chain (:func:`hub.pipelines.fit.check_chain`) and sets the pipeline's input
  and output to its first step's input and its last step's output.
"""

from __future__ import annotations

from pydantic import ValidationError as PydanticValidationError

from hub.access import Principal
from hub.exceptions import HubError, ValidationError
from hub.pipelines.describe import file_output, with_block
from hub.pipelines.fit import check_chain
from hub.pipelines.steps import BLOCK, PIPELINE, FileEntry, PipelineBlock, ServableEntry, StepEntry
from hub.servables.database import ServableDatabase
from hub.servables.metadata import ServableMetadata


def checked(metadata: ServableMetadata, db: ServableDatabase, publisher: Principal) -> ServableMetadata:
    """``metadata`` ready to register: a pipeline's steps resolved, pinned and checked; any other type as is.

    Raises
    ------
    ValidationError
        A missing or malformed ``pipeline`` block, a step the publisher may not see or
        that cannot be a step, or a step whose output does not fit the next step's input.
    """
    if metadata.servable.type != PIPELINE:
        return metadata
    raw = (metadata.model_extra or {}).get(BLOCK)
    if raw is None:
        raise ValidationError(
            "a pipeline's document needs its 'pipeline' block (describe it with hub.pipeline)"
        )
    try:
        block = PipelineBlock.model_validate(raw)
    except PydanticValidationError as exc:
        raise ValidationError(f"the pipeline's steps are not valid: {exc}") from None
    steps: list[StepEntry] = []
    for index, step in enumerate(block.steps, 1):
        if isinstance(step, ServableEntry):
            steps.append(_pinned(db, publisher, index, step))
        elif isinstance(step, FileEntry):
            steps.append(step.model_copy(update={"output": file_output(step.path)}))
        else:
            steps.append(step)
    pinned = PipelineBlock(steps=steps)
    check_chain(pinned)
    return with_block(metadata, pinned)


def _pinned(db: ServableDatabase, publisher: Principal, index: int, step: ServableEntry) -> ServableEntry:
    try:
        row = db.resolve(publisher, step.ref)
    except HubError as exc:
        raise ValidationError(f"step {index} ({step.ref}): {exc.message}") from None
    md = ServableMetadata.model_validate(row.document)
    label = f"step {index} ({row.id}@{row.version})"
    if row.type == PIPELINE:
        raise ValidationError(f"{label} is a pipeline: list its steps instead")
    if not md.servable.runnable or not row.artifact_sha:
        raise ValidationError(f"{label} is a {row.type} entry with nothing to run")
    run = md.servable.run
    return ServableEntry(
        ref=step.ref,
        id=row.id,
        version=row.version,
        pinned="@" in step.ref,
        type=row.type,
        input=run.input,
        output=run.output,
    )
