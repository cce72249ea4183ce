"""SHA-256 of a file's bytes (photo or video), matched by equality. threatexchange calls it video_sha256."""

from __future__ import annotations

from .base import ExactMediaType


class SHA256(ExactMediaType):
    name = "sha256"
    tx_type_name = "video_sha256"
    aliases = ("photo_sha256",)
    column = "sha256"
    hex_digits = 64

    @classmethod
    def tx(cls):
        from threatexchange.signal_type.sha256 import VideoSHA256Signal

        return VideoSHA256Signal
