"""Facts and figures about calls: who answered, the phone system's facts, the manager's report and its page."""
