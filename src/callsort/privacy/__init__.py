"""Personal data: found and replaced in transcripts, and silenced in copies of the recordings."""
