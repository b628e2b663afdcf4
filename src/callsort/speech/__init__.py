"""Speech: recordings decoded, speech found and recognised by Whisper, transcripts cached; who talked when."""
