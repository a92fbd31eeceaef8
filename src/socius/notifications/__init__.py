"""In-app notifications: what happened that concerns a person (tagged, later: mentions, replies, approvals)."""
