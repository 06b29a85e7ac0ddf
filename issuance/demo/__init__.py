"""`issuance demo` and its synthetic population: an entry point that wires every stage."""
