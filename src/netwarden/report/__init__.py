"""Evidence vault, NCMEC CyberTipline report and signal export (docs/evidence.md, docs/ncmec.md)."""
