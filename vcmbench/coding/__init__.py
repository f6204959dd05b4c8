"""Coding stage: pictures to bitstreams and back.

``yuv`` (colour conversion, CTC pad/scale), ``codecs/`` (encoder drivers and decoders behind one
registry), ``bitstream`` (VVC NAL/SPS parsing), ``verify`` (every bitstream decodes to what the
encoder meant) and ``conformance`` (decoder conformance suites)."""
