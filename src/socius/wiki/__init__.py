"""The wiki of a community: pages in a tree, every save kept as a revision."""
