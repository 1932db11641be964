"""The demo city and the load generator: data for trying and benchmarking, not the domain."""
