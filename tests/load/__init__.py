"""Bounded load tests against an app on this machine (loopback only)."""
