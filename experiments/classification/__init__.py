"""Image classification (§5.1, Tables 2-3)."""
