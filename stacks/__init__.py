"""One module per stack: stacks compose and wire constructs, nothing more."""
