"""Netwarden: find and dismantle networks of accounts trading CSAM, for a platform's T&S team."""

__version__ = "0.1.0"
