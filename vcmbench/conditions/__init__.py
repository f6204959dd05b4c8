"""Common test conditions as data: load, resolve ``base:`` inheritance, validate, verify user data.

A condition is a YAML file in ``cttc/`` (``schema_version: 1``).  Its sections name the dataset,
task network, codec and settings, colour conversion, rate definition, accuracy metric and BD
method, each with the ``source`` document the facts come from.  The schema is in ``schema.SCHEMA``;
unknown keys are errors.  At most one level of ``base:`` inheritance: a condition may name a base,
and that base may not itself have one.  Sections merge key by key (a child's value replaces the
base's; lists are replaced, not appended).

The library raises ``ConditionError`` for a single fatal problem and returns ``Issue`` lists from
``validate_*`` so that ``vcmbench cttc validate`` can report every problem with file and key.

Modules: ``schema`` (keys, checkers, named choices), ``schema_sequences`` (a video condition's
``dataset.sequences``, QP ladders per class, reporting classes, optional sets), ``model``
(``Condition``), ``validate`` (schema and consistency checks), ``load`` (names, paths, inheritance),
``verify_data`` (the user's files against recorded checksums), ``verify_sequences`` (a video
condition's frames on disk and annotated frames), ``checks`` (``FileCheck``), ``datasets`` (the images
a condition names and how to load them).
"""

from __future__ import annotations

from .load import conditions_dir, list_conditions, load_condition, resolve_inheritance, resolve_path, validate_file
from .model import Condition, content_hash
from .schema import (
                     BD_METHODS,
                     CHROMA,
                     CODECS,
                     COLOR_MODES,
                     GROUND_TRUTH,
                     KINDS,
                     METRICS,
                     RATE_DEFS,
                     RESIZE_MODES,
                     SCHEMA,
                     SCHEMA_VERSION,
                     SIDE_INFO,
                     TASK_TYPES,
                     Issue,
)
from .validate import validate_data
from .verify_data import FileCheck, data_files, verify_data

__all__ = ["BD_METHODS", "CHROMA", "CODECS", "COLOR_MODES", "GROUND_TRUTH", "KINDS", "METRICS", "RATE_DEFS",
           "RESIZE_MODES", "SCHEMA", "SCHEMA_VERSION", "SIDE_INFO", "TASK_TYPES", "Condition", "FileCheck", "Issue",
           "conditions_dir", "content_hash", "data_files", "list_conditions", "load_condition", "resolve_inheritance",
           "resolve_path", "validate_data", "validate_file", "verify_data"]
