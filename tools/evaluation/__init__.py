"""Offline evaluation of the whole detection loop: the data it runs on and what it measures."""
