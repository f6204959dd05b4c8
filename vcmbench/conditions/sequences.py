"""The sequences of a video condition (FCM SFU-HW-Objects-v1, TVD, HiEve) and how to read their frames.

A sequence dataset (``dataset.sequences``, schema in ``conditions.schema_sequences``) names, per
sequence, its raw 4:2:0 file (JCT-VC naming, holding ``total_frames`` frames of which
``first_frame .. first_frame + frames - 1`` are evaluated) or its PNG frame folder with a
``seqinfo.ini`` (the MOT layout, holding the evaluated frames only).  ``SequenceRef`` is the
resolved, checked sequence a run works on (the video counterpart of ``datasets.ImageRef``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SequenceRef:
    """One sequence of a run, resolved against the data folder.

    ``image_id`` (= ``name``) lets a sequence stand where a run stores an image id; ``eval_ids`` are the
    image ids of the evaluated frames in the sequence's ground truth (frame k <-> ``eval_ids[k]``).
    """

    name: str  # the sequence's name in reports (condition's ``name``)
    cls: str  # its class (the QP ladder's key)
    width: int
    height: int
    fps: float
    bit_depth: int  # of the source frames (8 or 10)
    first_frame: int  # FrameSkip into the raw file (0 for a PNG folder: it holds the evaluated frames only)
    frames: int  # FramesToBeEncoded: the evaluated frames
    intra_period: int
    digest: str  # md5 over the evaluated frames' bytes (raw file range, or the PNG files' bytes in order)
    yuv: str | None = None  # absolute path of the raw 4:2:0 file, or None
    frame_files: tuple[str, ...] = ()  # absolute paths of the PNG frames in order (empty for a raw file)
    annotations: str | None = None  # absolute path of the ground truth file (None: reference-output runs)
    annotation_format: str = "coco-json"  # coco-json | mot-gt
    eval_ids: tuple[int, ...] = ()  # ground-truth image id of each evaluated frame

    @property
    def image_id(self) -> str:
        return self.name

    @property
    def pixels(self) -> int:
        """Original pixels over the evaluated frames (the bpp denominator)."""
        return self.width * self.height * self.frames
