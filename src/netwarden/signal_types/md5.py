"""MD5 of a file's bytes (photo or video), matched by equality. threatexchange calls it video_md5."""

from __future__ import annotations

from .base import ExactMediaType


class MD5(ExactMediaType):
    name = "md5"
    tx_type_name = "video_md5"
    aliases = ("photo_md5",)
    hma_content, hma_default = "video", True  # HMA offers MD5 for videos only
    column = "md5"
    hex_digits = 32

    @classmethod
    def tx(cls):
        from threatexchange.signal_type.md5 import VideoMD5Signal

        return VideoMD5Signal
