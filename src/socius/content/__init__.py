"""Content: every post, topic, blog entry, wiki page, file, bookmark and comment is an item, so likes, comments,
moderation, search and the activity stream work the same way for all of them."""
