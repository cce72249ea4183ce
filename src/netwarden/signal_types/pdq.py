"""PDQ: Meta's perceptual photo hash (256 bits, 64 hex digits), matched within a bank's Hamming threshold."""

from __future__ import annotations

from collections.abc import Mapping

from .base import MediaType, hex_signal

PDQ_THRESHOLD = 31  # a bank's default PDQ match threshold (bits of Hamming distance)


class PDQ(MediaType):
    name = "pdq"
    tx_type_name = "pdq"
    aliases = ("photo_pdq",)
    hma_content, hma_default = "photo", True
    matching = "pdq"  # every dihedral variant of the media against the PDQ index, at each bank's threshold

    @classmethod
    def tx(cls):
        from threatexchange.signal_type.pdq.signal import PdqSignal

        return PdqSignal

    @classmethod
    def normalize(cls, signal: str) -> str:
        s = hex_signal(cls.name, signal, 64)
        try:
            return cls.tx().validate_signal_str(s).lower()
        except Exception as e:
            raise ValueError(f"not a valid PDQ hash: {e}") from None

    @classmethod
    def closeness(cls, detail: Mapping) -> float:
        """Bits of distance against the default threshold: 1.0 at 0 bits, 0.5 at PDQ_THRESHOLD or more."""
        return 1 - 0.5 * min(int(detail.get("distance") or 0), PDQ_THRESHOLD) / PDQ_THRESHOLD

    @classmethod
    def query(cls, hashes, signal: str) -> None:
        hashes.pdq, hashes.quality = signal, 100
