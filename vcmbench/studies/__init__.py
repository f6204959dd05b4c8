"""The design documents' experiments as runnable, resumable studies (``vcmbench study``).

Studies are data (``cttc/studies/*.yaml``, ``kind: study``; :mod:`.model`), run by the resumable,
parallel runner (:mod:`.runner`, on the run store and executor of ``vcmbench.run``), one module
per study type — :mod:`.distortions` (S2), :mod:`.layers` (S3), :mod:`.downscaled` (S1) with
:mod:`.train` (``train-restore``), :mod:`.occlusion` (S4) — and reported by :mod:`.report`.
"""

from .model import STUDY_TYPES, Study, list_studies, load_study

__all__ = ["STUDY_TYPES", "Study", "list_studies", "load_study"]
