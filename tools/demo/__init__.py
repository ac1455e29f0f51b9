"""`make demo`: two example sites with and without xdlink, and a live page of their events."""
