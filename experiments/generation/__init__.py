"""Image generation by reconstruction (§5.2, Tables 4-5, Fig. 5)."""
