"""The files of a community: uploads checked and stored by content hash, every version kept."""
