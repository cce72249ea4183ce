"""Known-media matching: safe decoding, hashing (PDQ, vPDQ, MD5, SHA-256), banks and a match index.

Plain library code over plain data: no database or web code here (see netwarden.media.banks for the
store side and netwarden.cli.media_cmd for the command line).
"""
