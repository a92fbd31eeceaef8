"""The bookmarks of a community: shared links (never fetched by the server)."""
