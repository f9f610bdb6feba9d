"""The whoosh implementation of the search engine interface (``engine.WhooshEngine``) and its fast paths."""
