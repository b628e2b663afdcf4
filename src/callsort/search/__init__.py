"""Finding calls by what was said: callsort's query language (query.py), snippets, and topics (topics.py)."""
