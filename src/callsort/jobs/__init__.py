"""Stored runs: the results database, its work queue and corrections, and the local and Ray engines."""
