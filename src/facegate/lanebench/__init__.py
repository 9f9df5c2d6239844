"""``facegate bench lane``: labelled lane streams and the arrival-rate sweep."""
