"""The activity stream: what happened, who follows what, and the feeds built from both."""
