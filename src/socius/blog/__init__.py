"""The blog of a community: entries with comments and tags."""
