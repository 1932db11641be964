"""Full-text search: the index and searching tickets within the searcher's rights."""
