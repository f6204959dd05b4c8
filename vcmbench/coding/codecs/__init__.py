"""Codec drivers and decoders behind one registry (see :mod:`vcmbench.coding.codecs.base` for the contract).

Codecs: ``vvenc`` (VVenC through imageio-ffmpeg's FFmpeg; the default), ``vtm`` (user-supplied
VTM EncoderApp/DecoderApp), ``x265`` (HEVC through FFmpeg, optional).  Decoders: ``ffmpeg``,
``pyav``, ``vtm`` and command templates (:mod:`vcmbench.coding.codecs.decoders`).
"""

from __future__ import annotations

from . import template as _template  # noqa: F401  (registers "template")
from . import vtm as _vtm  # noqa: F401  (registers "vtm")
from . import vvenc as _vvenc  # noqa: F401  (registers "vvenc")
from .base import CODECS, Codec, DecodeResult, EncodeResult, EncodeSettings, codec_names, get_codec
from .decoders import DECODERS, Decoder, decoder_names, get_decoder

__all__ = ["CODECS", "Codec", "DecodeResult", "EncodeResult", "EncodeSettings", "codec_names", "get_codec",
           "DECODERS", "Decoder", "decoder_names", "get_decoder"]
