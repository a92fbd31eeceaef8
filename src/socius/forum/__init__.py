"""The forum of a community: topics, questions, replies and accepted answers."""
