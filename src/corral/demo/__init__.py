"""`corral demo`: a real deployment against an embedded sandbox."""
