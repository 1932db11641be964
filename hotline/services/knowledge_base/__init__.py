"""The operators' knowledge base (知识库) and matching what an operator types against it."""
