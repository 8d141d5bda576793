"""Fault suite: hostile files, bad input, many users, cancel and offline (GUIDE §5)."""
